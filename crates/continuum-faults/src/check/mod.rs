//! The checker: reads a recorded history and nothing else, and reports every violation of what
//! must hold, with the operations involved.
//!
//! What must hold (issue 17):
//! - no acknowledged write is lost: what the final reads show includes every acknowledged
//!   attribute write that no later write of the same key may have replaced;
//! - no session is valid after its revocation was acknowledged (after an optional grace the
//!   strategy documents, e.g. the sealed deny list's cache);
//! - the versions a client observes of a session only grow;
//! - a client reads its own acknowledged write on the same route afterwards;
//! - every document edit acknowledged as `cloud` is in the document at the end;
//! - and, what a user notices first, no live session is answered as unknown (401/404).
//!
//! An operation that ended without a definite answer ([`Outcome::Unknown`]) may or may not have
//! happened, now or later: the checker never counts on it either way, so a timeout can excuse a
//! difference but never cause a violation.
//!
//! # Layout
//! - [`violation`]: [`Violation`] and its [`ViolationKind`].
//! - [`sessions`]: the per-session checks, one pass over a session's operations.
//! - [`docs`]: the document check.
//! - [`report`]: [`CheckReport`], the violations and the counts a comparison table needs.

pub mod docs;
pub mod report;
pub mod sessions;
pub mod violation;

use std::collections::BTreeMap;

pub use report::{CheckReport, Counts};
pub use violation::{Violation, ViolationKind};

use crate::history::{Op, Record, SessionRef};

/// What the checker allows, stated by the strategy under test.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckOptions {
    /// How long after a revocation was acknowledged a validation elsewhere may still accept
    /// the session, in µs (0: at once everywhere). The sealed strategy's deny list is cached
    /// on other nodes for up to a second, and says so.
    pub revocation_grace_us: u64,
}

/// Checks `history` and returns every violation found, with counts.
pub fn check(history: &[Record], options: &CheckOptions) -> CheckReport {
    let mut by_session: BTreeMap<&SessionRef, Vec<&Record>> = BTreeMap::new();
    for record in history {
        if let Some(session) = record.op.session() {
            by_session.entry(session).or_default().push(record);
        }
    }
    let mut report = CheckReport::default();
    for (session, mut records) in by_session {
        records.sort_by_key(|record| (record.start_us, record.id));
        sessions::check_session(session, &records, options, &mut report);
    }
    docs::check_docs(history, &mut report);
    report.counts.operations = history.len();
    report.counts.acknowledged = history.iter().filter(|record| record.outcome.is_ok()).count();
    report.counts.unknown = history
        .iter()
        .filter(|record| matches!(record.outcome, crate::history::Outcome::Unknown { .. }))
        .count();
    report.counts.sessions = history.iter().filter(|record| matches!(record.op, Op::Create { .. })).count();
    report
}

#[cfg(test)]
mod fixture;
#[cfg(test)]
mod tests;
