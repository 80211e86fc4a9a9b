//! Changes that reach a live document from elsewhere than its own peers: updates another node
//! appended to the shared store, announced on the bus or read back from the log.
//!
//! They are already durable (another node appended them), so they are applied and broadcast to
//! this node's peers but never queued for the store again, and they are not held to the
//! document size limit: the node that accepted them enforced it, and refusing them here would
//! only make the replicas diverge.

use continuum_store::StoredDoc;

use crate::SyncError;
use crate::live_doc::LiveDoc;
use crate::protocol::{self, decode_update};
use crate::state::DocState;

impl DocState {
    /// Applies updates already in the store (in any order: what yrs cannot integrate yet waits
    /// for its dependencies) and sends what was new to every peer. Returns how many of them
    /// changed the document.
    pub(crate) fn merge_durable<'a>(
        &mut self,
        updates: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<usize, SyncError> {
        self.check_alive()?;
        let mut changed = 0;
        for raw in updates {
            let update = decode_update(raw).map_err(|error| SyncError::Corrupt(error.into()))?;
            if let Some(integrated) = self.apply_update(update, raw, usize::MAX)? {
                self.broadcast_update(None, protocol::update(integrated).into());
                changed += 1;
            }
        }
        Ok(changed)
    }
}

impl LiveDoc {
    /// Applies updates another node appended to the store and sends what was new to this
    /// node's peers (see [`DocState::merge_durable`]). Returns how many changed the document.
    pub fn merge_durable<'a>(&self, updates: impl IntoIterator<Item = &'a [u8]>) -> Result<usize, SyncError> {
        self.core.lock().merge_durable(updates)
    }

    /// Reads the document's log from the store and merges it: how a node catches up on appends
    /// it was not told about. Returns the log as read.
    pub async fn catch_up(&self) -> Result<StoredDoc, SyncError> {
        let stored = self.store.load(&self.core.key).await.map_err(SyncError::Store)?;
        self.merge_durable(stored.snapshot.iter().chain(&stored.updates).map(Vec::as_slice))?;
        Ok(stored)
    }
}
