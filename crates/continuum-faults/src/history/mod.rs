//! The recorded history of a run: one [`Record`] per operation a client issued, with when it
//! started and ended and what it was answered.
//!
//! The runner writes it and the checker reads it; neither needs the other. A client issues its
//! operations one at a time, and every logical session ([`SessionRef`]) belongs to exactly one
//! client, so the records of one session, ordered by `start_us`, are the order its client issued
//! them in. Times are microseconds since the run began, on the runner's monotonic clock.
//!
//! # Layout
//! - [`op`]: [`Op`], what was asked.
//! - [`outcome`]: [`Outcome`], what was answered: a definite success, a definite refusal, or
//!   unknown (a timeout, a broken connection, a 5xx: the operation may or may not have happened).
//! - [`mod@file`]: JSON Lines reading and writing.

pub mod file;
pub mod op;
pub mod outcome;

pub use file::{HistoryError, read_history, write_record};
pub use op::{DocRef, Op, SessionRef};
pub use outcome::{Observed, Outcome};

use serde::{Deserialize, Serialize};

/// One operation, as the runner saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Unique in the history, increasing in the order operations were issued.
    pub id: u64,
    /// The client that issued it; a client has at most one operation in flight.
    pub client: u32,
    /// Where the request was sent: the node or gateway id it went to (`n0`, `gw`, …). The
    /// read-your-writes check compares reads with writes on the same route.
    pub route: String,
    /// When the request was sent, µs since the run began.
    pub start_us: u64,
    /// When the answer (or the error) arrived, µs since the run began; `>= start_us`.
    pub end_us: u64,
    /// `true` for the reads made after the faults were healed and the cluster settled: what the
    /// system ended with.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub final_read: bool,
    /// What was asked.
    pub op: Op,
    /// What was answered.
    pub outcome: Outcome,
}
