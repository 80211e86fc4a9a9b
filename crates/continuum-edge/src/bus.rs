//! [`EdgeBus`]: the origin's event stream, presented to the server app as the [`Bus`] of a node
//! whose only peer is the origin, so that the app's own relay closes the sync sockets of a
//! session the origin ended and tells the edge's `/v1/events` readers, exactly as a node does
//! for its cluster's notices.
//!
//! What the edge itself would announce has nowhere to go — sessions are written at the origin —
//! so [`Bus::publish`] takes it and drops it.

use async_trait::async_trait;
use continuum_store::{Bus, Heard, Notice, StoreError};
use tokio::sync::broadcast;

/// How many notices a subscriber may fall behind before it hears a gap.
pub const CAPACITY: usize = 4096;

/// The origin's events as a bus. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct EdgeBus {
    sender: broadcast::Sender<Heard>,
}

impl Default for EdgeBus {
    fn default() -> Self {
        Self { sender: broadcast::channel(CAPACITY).0 }
    }
}

impl EdgeBus {
    /// Delivers what the origin's stream said to every subscriber (none is not an error).
    pub fn deliver(&self, heard: Heard) {
        let _ = self.sender.send(heard);
    }
}

#[async_trait]
impl Bus for EdgeBus {
    /// Dropped: the origin is the source of every session event an edge relays.
    async fn publish(&self, _: &Notice) -> Result<(), StoreError> {
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Heard> {
        self.sender.subscribe()
    }
}
