//! [`Step`]: how one attempt at an operation ended, and how refusals travel — a [`StoreError`]
//! on one node becomes a [`Refusal`] on the wire and the same [`StoreError`] on the node that
//! asked.

use continuum_store::StoreError;

use super::error::ReplicationError;
use super::wire::Refusal;

/// Why one attempt at an operation did not finish.
#[derive(Debug)]
pub(crate) enum Step {
    /// Membership is changing (views differ, an owner is unreachable, no quorum): try again
    /// under the next view, until the settle timeout.
    Retry(&'static str),
    /// A final answer: the operation failed so.
    Fail(StoreError),
}

impl From<StoreError> for Step {
    fn from(error: StoreError) -> Self {
        Self::Fail(error)
    }
}

/// The step for a peer's refusal: membership refusals are retried, the rest are final.
pub(crate) fn refusal_step(refusal: Refusal) -> Step {
    match refusal {
        Refusal::AlreadyExists => Step::Fail(StoreError::AlreadyExists),
        Refusal::NotFound => Step::Fail(StoreError::NotFound),
        Refusal::VersionConflict { expected, actual } => {
            Step::Fail(StoreError::VersionConflict { expected, actual })
        }
        Refusal::InvalidWrite { message } => Step::Fail(StoreError::InvalidWrite(static_message(&message))),
        Refusal::NotOwner => Step::Retry("the peer does not own the key"),
        Refusal::StaleView => Step::Retry("the views differ"),
        Refusal::NoQuorum => Step::Retry("the peer has no quorum"),
        Refusal::Closed => Step::Retry("the peer is closing"),
        Refusal::BadRequest { message } | Refusal::Failed { message } => {
            Step::Fail(StoreError::backend(ReplicationError::Peer { message }))
        }
    }
}

/// The refusal a node answers for a step that did not finish.
pub(crate) fn step_refusal(step: Step) -> Refusal {
    match step {
        Step::Retry(_) => Refusal::StaleView,
        Step::Fail(error) => store_refusal(error),
    }
}

/// The refusal for a store error.
pub(crate) fn store_refusal(error: StoreError) -> Refusal {
    match error {
        StoreError::AlreadyExists => Refusal::AlreadyExists,
        StoreError::NotFound => Refusal::NotFound,
        StoreError::VersionConflict { expected, actual } => Refusal::VersionConflict { expected, actual },
        StoreError::InvalidWrite(message) => Refusal::InvalidWrite { message: message.to_owned() },
        StoreError::Closed => Refusal::Closed,
        StoreError::Unavailable(_) => Refusal::NoQuorum,
        StoreError::Backend(source) => {
            tracing::warn!(error = %source, "a store failed serving a peer");
            Refusal::Failed { message: source.to_string() }
        }
    }
}

/// The store rules a refusal may name, back as the `&'static str` [`StoreError::InvalidWrite`]
/// carries.
fn static_message(message: &str) -> &'static str {
    const KNOWN: &[&str] = &[
        "a replace cannot change the session id",
        "a replace cannot change the principal",
        "a replace must increase the version",
        "compaction past the last appended update",
        "compaction older than the current snapshot",
        "this store cannot walk its sessions",
        "this store cannot purge sessions by id",
    ];
    KNOWN.iter().copied().find(|known| *known == message).unwrap_or("refused by the key's primary")
}
