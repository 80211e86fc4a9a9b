//! [`QueuedDocs`]: the edge's [`DocStore`] — the edge's own copy of each document (a local
//! store on its disk, which serves its devices and survives its restarts) with every device's
//! update put into the [`EdgeQueue`] first, with the writer's sid, for the origin.
//!
//! Updates that came down from the origin (`append_from_upstream`) are kept in the local copy
//! only: the origin has them.
//!
//! Durability: when an append returns, the update is in the queue (fsynced: it survives a crash
//! or power loss of the edge and reaches the origin by replay) and in the local copy. The ack a
//! device gets for it says `edge` (message type 101), not `cloud`.

use std::sync::Arc;

use async_trait::async_trait;
use continuum_core::{DocKey, DocName, Scope, SessionId, Timestamp};
use continuum_store::{DocStore, StoreError, StoredDoc, VersionMeta};

use crate::queue::EdgeQueue;
use crate::upstream::Upstream;

/// The edge's document store.
#[derive(Debug)]
pub struct QueuedDocs<D> {
    local: Arc<D>,
    queue: EdgeQueue,
    upstream: Arc<Upstream>,
}

impl<D> QueuedDocs<D> {
    /// Documents in `local`, updates queued in `queue`, each append recorded in `upstream`.
    pub fn new(local: Arc<D>, queue: EdgeQueue, upstream: Arc<Upstream>) -> Self {
        Self { local, queue, upstream }
    }
}

#[async_trait]
impl<D: DocStore> DocStore for QueuedDocs<D> {
    async fn load(&self, key: &DocKey) -> Result<StoredDoc, StoreError> {
        self.local.load(key).await
    }

    async fn append(&self, key: &DocKey, update: Vec<u8>) -> Result<u64, StoreError> {
        self.append_by(key, update, None).await
    }

    /// Queued first (fsynced), then kept in the local copy: an update in the copy is always on
    /// its way to the origin.
    async fn append_by(
        &self,
        key: &DocKey,
        update: Vec<u8>,
        writer: Option<&SessionId>,
    ) -> Result<u64, StoreError> {
        let queued = self
            .queue
            .push(writer.copied(), key.clone(), update.clone())
            .await
            .map_err(StoreError::backend)?;
        let local = self.local.append(key, update).await?;
        self.upstream.record(key, local, queued);
        Ok(local)
    }

    /// Kept in the local copy only: the origin sent it, so it is not queued (no echo back up)
    /// and not counted as this edge's write.
    async fn append_from_upstream(&self, key: &DocKey, update: Vec<u8>) -> Result<u64, StoreError> {
        self.local.append(key, update).await
    }

    async fn compact(&self, key: &DocKey, snapshot: Vec<u8>, through_seq: u64) -> Result<(), StoreError> {
        self.local.compact(key, snapshot, through_seq).await
    }

    async fn save_version(
        &self,
        key: &DocKey,
        name: String,
        created_at: Timestamp,
        state: Vec<u8>,
    ) -> Result<VersionMeta, StoreError> {
        self.local.save_version(key, name, created_at, state).await
    }

    async fn versions(&self, key: &DocKey) -> Result<Vec<VersionMeta>, StoreError> {
        self.local.versions(key).await
    }

    async fn version(&self, key: &DocKey, id: u64) -> Result<Option<(VersionMeta, Vec<u8>)>, StoreError> {
        self.local.version(key, id).await
    }

    async fn doc_names(&self, scope: &Scope) -> Result<Vec<DocName>, StoreError> {
        self.local.doc_names(scope).await
    }
}
