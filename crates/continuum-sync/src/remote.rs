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

impl LiveDoc {
    /// Applies updates another node appended to the store and sends what was new to this
    /// node's peers; being durable already, they are not queued for the store again nor held
    /// to the document size limit. Returns how many changed the document.
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
