//! [`Op`]: what a client asked.

use serde::{Deserialize, Serialize};

/// A logical session: the runner's name for one login, stable across rotations (`s17`). Its
/// current token is the runner's business; the checker judges by this name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionRef(pub String);

/// A continuity document, as `scope/name` (`user:alice/notes`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DocRef(pub String);

/// One operation of the workload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Op {
    /// `POST /v1/sessions`: log `session` in as `principal` (sealed or stored).
    Create {
        /// The logical session this creates.
        session: SessionRef,
        /// Its principal.
        principal: String,
        /// A sealed-cookie session (nothing stored) rather than a stored one.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        sealed: bool,
    },
    /// `POST /v1/sessions/validate` with the session's current token.
    Validate {
        /// Which session.
        session: SessionRef,
    },
    /// `GET /v1/sessions/{sid}`.
    Get {
        /// Which session.
        session: SessionRef,
    },
    /// `PATCH /v1/sessions/{sid}/attributes` setting attribute `key` to `value`, with
    /// `If-Match: <if_match>` when given. Every write in a history writes a value no other
    /// write of the same key and session writes.
    Patch {
        /// Which session.
        session: SessionRef,
        /// The attribute written.
        key: String,
        /// The value written (unique per session and key).
        value: u64,
        /// The version the client believed current, sent as `If-Match`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        if_match: Option<u64>,
    },
    /// `POST /v1/sessions/{sid}/rotate`: a new secret; the answer carries the new token.
    Rotate {
        /// Which session.
        session: SessionRef,
    },
    /// `DELETE /v1/sessions/{sid}` (a sealed one with its token in the body).
    Revoke {
        /// Which session.
        session: SessionRef,
    },
    /// `PATCH /v1/docs/{scope}/{name}` setting the root map's entry `key` (unique in the
    /// history) to a value. A success means the edit is in the origin's store: the `cloud`
    /// durability level.
    DocEdit {
        /// Which document.
        doc: DocRef,
        /// The entry written.
        key: String,
    },
    /// `GET /v1/docs/{scope}/{name}`: the entries the document holds.
    DocRead {
        /// Which document.
        doc: DocRef,
    },
}

impl Op {
    /// The session this operation is about, if any.
    pub fn session(&self) -> Option<&SessionRef> {
        match self {
            Op::Create { session, .. }
            | Op::Validate { session }
            | Op::Get { session }
            | Op::Patch { session, .. }
            | Op::Rotate { session }
            | Op::Revoke { session } => Some(session),
            Op::DocEdit { .. } | Op::DocRead { .. } => None,
        }
    }

    /// The document this operation is about, if any.
    pub fn doc(&self) -> Option<&DocRef> {
        match self {
            Op::DocEdit { doc, .. } | Op::DocRead { doc } => Some(doc),
            _ => None,
        }
    }
}
