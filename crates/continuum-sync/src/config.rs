//! [`SyncConfig`]: the thresholds and limits of continuity documents.

use std::time::Duration;

/// Thresholds and bounds for every document a [`crate::DocRegistry`] serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncConfig {
    /// How many updates may sit in a document's log before it is compacted into one snapshot.
    pub compact_after: usize,
    /// The largest binary message a peer may send; larger ones fail with
    /// [`crate::SyncError::MessageTooLarge`].
    pub max_message_bytes: usize,
    /// The largest encoded document state. An update that would take a document past it is
    /// refused with [`crate::SyncError::DocTooLarge`]: not applied, not broadcast, not persisted.
    pub max_doc_bytes: usize,
    /// How many messages may wait for one peer. A peer whose queue is full is too slow: it is
    /// detached (see [`crate::Peer`]).
    pub outbound_capacity: usize,
    /// How many changes may wait for the store per document. When it is full, [`crate::Peer::receive`]
    /// and the JSON writes wait for room, which slows the senders down to the store's pace.
    pub persist_capacity: usize,
    /// How long awareness changes gather before they are sent: at most one awareness message
    /// per peer per tick, however many clients changed (see [`crate::Peer`]).
    pub awareness_tick: Duration,
    /// The durability ack sent once the store returned from an append: [`crate::ack::MSG_ACK`]
    /// (`cloud`, the default: the store is the origin's) or [`crate::ack::MSG_ACK_EDGE`] (`edge`:
    /// the store is an edge's durable queue).
    pub ack_message: u64,
    /// Whether a batch of queued changes is appended as one merged update per run of one
    /// writer's changes (so that a store recording who wrote what — an edge's queue — gets each
    /// writer's own), rather than as one update per batch (the default: the fewest appends).
    pub append_per_writer: bool,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            compact_after: 200,
            max_message_bytes: 1024 * 1024,
            max_doc_bytes: 4 * 1024 * 1024,
            outbound_capacity: 1024,
            persist_capacity: 1024,
            awareness_tick: Duration::from_millis(50),
            ack_message: continuum_core::ywire::MSG_ACK,
            append_per_writer: false,
        }
    }
}
