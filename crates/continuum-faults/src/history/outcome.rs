//! [`Outcome`]: what an operation was answered, sorted by what the checker may conclude from it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What an answer showed of a session or a document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// The session's version (`version` of the answer); absent for sealed sessions and
    /// documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The session's `status` as answered (`active`, `expired`, `revoked`); absent where the
    /// answer has none (a validation, which answers only live sessions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The session's integer attributes as answered (the workload writes only integers).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, u64>,
    /// A document's root-map keys, for [`crate::history::Op::DocRead`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub doc_keys: Vec<String>,
}

/// How an operation ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// A 2xx: the operation took effect (a write) or this is what was read.
    Ok(Observed),
    /// A 4xx: the operation definitely did not take effect. `problem` is the problem+json
    /// `type`'s last segment (`unauthorized`, `version-conflict`, `not-found`, …).
    Refused {
        /// The HTTP status.
        status: u16,
        /// The problem type, or empty when the body was not problem+json.
        problem: String,
    },
    /// No answer, a broken connection, a timeout or a 5xx: the operation may or may not have
    /// taken effect, and may still take effect later.
    Unknown {
        /// What happened, for the report (`timeout after 2s`, `503 owners-lost`, …).
        reason: String,
    },
}

impl Observed {
    /// Whether the answer showed a live session: no status, or `active`.
    pub fn is_live(&self) -> bool {
        self.status.as_deref().is_none_or(|status| status == "active")
    }
}

impl Outcome {
    /// Whether this is a definite success.
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok(_))
    }

    /// What a success showed, if it is one.
    pub fn observed(&self) -> Option<&Observed> {
        match self {
            Outcome::Ok(observed) => Some(observed),
            _ => None,
        }
    }
}
