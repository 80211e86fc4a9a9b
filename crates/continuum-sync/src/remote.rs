//! Changes that reach a live document from elsewhere than its own peers: updates another node
//! appended to the shared store, announced on the bus or read back from the log; and updates
//! that came down from the tier above (an edge's connection to its origin).
//!
//! Neither is held to the document size limit: the node that accepted them enforced it, and
//! refusing them here would only make the copies diverge. Updates from the shared store are
//! already durable there, so they are applied and broadcast to this node's peers but never
//! queued for the store again; updates from upstream are queued for this node's own store, to
//! be kept there ([`continuum_store::DocStore::append_from_upstream`]) and not sent back up.

use continuum_store::StoredDoc;

use crate::SyncError;
use crate::live_doc::{LiveDoc, Origin};

impl LiveDoc {
    /// Applies updates another node appended to the store and sends what was new to this
    /// node's peers; being durable already, they are not queued for the store again nor held
    /// to the document size limit. Returns how many changed the document.
    pub fn merge_durable<'a>(&self, updates: impl IntoIterator<Item = &'a [u8]>) -> Result<usize, SyncError> {
        self.core.lock().merge_durable(updates)
    }

    /// Applies an update that came down from the tier above (`update`, a Yjs v1 update as the
    /// origin sent it), sends what was new to this node's peers, and queues it for the store
    /// behind everything applied before, as an update from upstream: the store keeps it, and an
    /// edge's store does not queue it for the origin, which has it. Returns whether it changed
    /// the document; an update the document already had (the origin relaying this edge's own
    /// replayed update back) changes nothing, is sent to nobody and is not stored again.
    ///
    /// Errors: [`SyncError::Malformed`] for bytes that are not an update,
    /// [`SyncError::Rejected`] for one that does not integrate, and the errors of a document
    /// whose persistence stopped.
    pub async fn apply_upstream(&self, update: &[u8]) -> Result<bool, SyncError> {
        let decoded = crate::protocol::decode_update(update).map_err(SyncError::Malformed)?;
        let mut changed = false;
        self.commit(Origin::upstream(), |state| {
            let integrated = state.apply_update(decoded, update, usize::MAX)?;
            changed = integrated.is_some();
            Ok(integrated)
        })
        .await?;
        Ok(changed)
    }

    /// Reads the document's log from the store and merges it: how a node catches up on appends
    /// it was not told about. Returns the log as read.
    pub async fn catch_up(&self) -> Result<StoredDoc, SyncError> {
        let stored = self.store.load(&self.core.key).await.map_err(SyncError::Store)?;
        self.merge_durable(stored.snapshot.iter().chain(&stored.updates).map(Vec::as_slice))?;
        Ok(stored)
    }
}
