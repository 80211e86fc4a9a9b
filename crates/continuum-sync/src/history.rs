//! Named versions of a live document: save, list, read as JSON, restore as a new change.

use serde_json::Value;
use yrs::{Doc, Transact};

use continuum_store::VersionMeta;

use crate::SyncError;
use crate::json::doc_to_json;
use crate::live_doc::{LiveDoc, Origin};
use crate::patch::restore_roots;
use crate::protocol::decode_update;

impl LiveDoc {
    /// Stores the document's current full state as a version named `name`, timed by the
    /// registry's clock.
    ///
    /// Durability: when this returns, the version is as durable as the store makes a write.
    pub async fn save_version(&self, name: String) -> Result<VersionMeta, SyncError> {
        let state = self.core.lock().full_state();
        let now = self.clock.now();
        self.store.save_version(self.key(), name, now, state).await.map_err(SyncError::Store)
    }

    /// The document's versions, oldest first.
    pub async fn versions(&self) -> Result<Vec<VersionMeta>, SyncError> {
        self.store.versions(self.key()).await.map_err(SyncError::Store)
    }

    /// One version and its content as JSON (see [`LiveDoc::to_json`]), or `None`.
    pub async fn version_json(&self, id: u64) -> Result<Option<(VersionMeta, Value)>, SyncError> {
        let Some((meta, state)) = self.store.version(self.key(), id).await.map_err(SyncError::Store)? else {
            return Ok(None);
        };
        let version = scratch_doc(&state)?;
        let json = doc_to_json(&version.transact());
        Ok(Some((meta, json)))
    }

    /// Makes the document's root maps hold what they held in version `id`, as one new change:
    /// keys set or replaced, keys the version lacks deleted, maps it lacks cleared. Peers receive
    /// it like any change, so every replica converges on it; roots that are not maps are left
    /// alone. Returns `false` if there is no such version.
    ///
    /// Durability: when this returns `Ok(true)`, the restore is appended to the store.
    pub async fn restore(&self, id: u64) -> Result<bool, SyncError> {
        let Some((_, state)) = self.store.version(self.key(), id).await.map_err(SyncError::Store)? else {
            return Ok(false);
        };
        let version = scratch_doc(&state)?;
        let limit = self.config.max_doc_bytes;
        let durable = self
            .commit(Origin::api(), |live| {
                // The restore re-inserts at most what the version holds.
                live.ensure_room(state.len(), limit)?;
                live.transact(|txn| {
                    restore_roots(txn, &version.transact());
                    Ok::<_, SyncError>(())
                })
            })
            .await?;
        Self::wait_durable(durable).await?;
        Ok(true)
    }
}

/// A document holding a stored full state, to read from.
fn scratch_doc(state: &[u8]) -> Result<Doc, SyncError> {
    let doc = Doc::new();
    let update = decode_update(state).map_err(|error| SyncError::Corrupt(error.into()))?;
    doc.transact_mut().apply_update(update).map_err(|error| SyncError::Corrupt(error.into()))?;
    Ok(doc)
}
