//! [`CheckReport`]: what the checker found, as violations and as the counts the comparison
//! table shows.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{Violation, ViolationKind};

/// Counts over the whole history.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Records read.
    pub operations: usize,
    /// Of them, answered with a definite success.
    pub acknowledged: usize,
    /// Of them, ended without a definite answer.
    pub unknown: usize,
    /// Sessions the workload tried to create.
    pub sessions: usize,
    /// Distinct sessions answered as unknown while live, at any time.
    pub sessions_lost: usize,
    /// Acknowledged attribute writes and document edits missing at the end.
    pub writes_lost: usize,
    /// Acknowledged revocations a later validation did not respect.
    pub revocations_undone: usize,
    /// Sessions whose end state could not be read (the final read had no definite answer), so
    /// their writes were not checked.
    pub unchecked: usize,
}

/// The checker's result.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Every violation, in the order found (by subject, then time).
    pub violations: Vec<Violation>,
    /// The counts.
    pub counts: Counts,
    /// Sessions already counted in `counts.sessions_lost`.
    #[serde(skip)]
    pub(crate) lost_sessions: BTreeSet<String>,
    /// Revocations already counted in `counts.revocations_undone`, by record id.
    #[serde(skip)]
    pub(crate) undone_revocations: BTreeSet<u64>,
}

impl CheckReport {
    /// Whether nothing was violated.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }

    /// How many violations of `kind` were found.
    pub fn count(&self, kind: ViolationKind) -> usize {
        self.violations.iter().filter(|violation| violation.kind == kind).count()
    }

    /// The kinds found, each once, in report order.
    pub fn kinds(&self) -> Vec<ViolationKind> {
        ViolationKind::ALL.into_iter().filter(|kind| self.count(*kind) > 0).collect()
    }

    pub(crate) fn push(&mut self, violation: Violation) {
        match violation.kind {
            ViolationKind::SessionLost => {
                if self.lost_sessions.insert(violation.subject.clone()) {
                    self.counts.sessions_lost += 1;
                }
            }
            ViolationKind::RevocationUndone => {
                if let Some(revoke) = violation.ops.first()
                    && self.undone_revocations.insert(*revoke)
                {
                    self.counts.revocations_undone += 1;
                }
            }
            ViolationKind::LostWrite | ViolationKind::LostDocEdit => self.counts.writes_lost += 1,
            ViolationKind::VersionWentBack | ViolationKind::StaleRead => {}
        }
        self.violations.push(violation);
    }
}
