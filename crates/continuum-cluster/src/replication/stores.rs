//! The replicated cluster as the server sees it: [`ReplicatedSessions`] (a
//! [`SessionStore`]), [`ReplicatedDocs`] (a [`DocStore`]) and [`PeerBus`] (a [`Bus`]), each a
//! view of one [`ReplicaNode`].
//!
//! # Durability
//! A write that returned `Ok` is in the store of its primary and of each of its `k` backups
//! (each node's own redb file, fsynced before it answered): it survives the loss of up to `k`
//! of those nodes. Reads see every write acknowledged before they started.

use std::sync::Arc;

use async_trait::async_trait;
use continuum_core::placement::PlacementKey;
use continuum_core::{DocKey, DocName, Principal, Scope, SessionId, SessionRecord, Timestamp};
use continuum_store::bus::{Inbox, encode};
use continuum_store::{
    Bus, DocStore, Heard, Notice, PurgedSession, SessionStore, StoreError, StoredDoc, VersionMeta,
};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::node::ReplicaNode;
use super::wire::Request;

/// The largest notice sent to peers; a larger document update is announced without its bytes.
pub const MAX_NOTICE_BYTES: usize = 256 * 1024;

/// Sessions held by the nodes of a replicated cluster, as one store.
pub struct ReplicatedSessions {
    node: Arc<ReplicaNode>,
    /// Stops the cluster's tasks (membership, listener, connections) on close.
    stop: CancellationToken,
}

impl ReplicatedSessions {
    /// The sessions of `node`; `stop` ends its tasks on [`SessionStore::close`].
    pub fn new(node: Arc<ReplicaNode>, stop: CancellationToken) -> Self {
        Self { node, stop }
    }
}

#[async_trait]
impl SessionStore for ReplicatedSessions {
    fn data_loss(&self) -> Option<tokio::sync::watch::Receiver<continuum_store::DataLoss>> {
        Some(self.node.data_loss())
    }

    async fn insert(&self, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        let node = Arc::clone(&self.node);
        self.node.detached(async move { node.insert(&record).await }).await
    }

    /// A miss for a session whose every owner left at once is an error (503), not an absence.
    async fn get(&self, sid: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        match self.node.get(sid).await? {
            None => match self.node.lost_key(&PlacementKey::session(sid), "session") {
                Some(lost) => Err(lost),
                None => Ok(None),
            },
            found => Ok(found),
        }
    }

    async fn replace(&self, expected_version: u64, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        let node = Arc::clone(&self.node);
        self.node.detached(async move { node.replace(expected_version, &record).await }).await
    }

    async fn touch(&self, sid: &SessionId, at: Timestamp) -> Result<(), StoreError> {
        let (node, sid) = (Arc::clone(&self.node), *sid);
        self.node.detached(async move { node.touch(&sid, at).await }).await
    }

    async fn list_by_principal(&self, principal: &Principal) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        self.node.list_by_principal(principal).await
    }

    async fn purge_expired(&self, now: Timestamp, limit: usize) -> Result<Vec<PurgedSession>, StoreError> {
        self.node.purge_expired(now, limit).await
    }

    async fn principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        self.node.principal_epoch(principal).await
    }

    async fn bump_principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        let (node, principal) = (Arc::clone(&self.node), principal.clone());
        self.node.detached(async move { node.bump_principal_epoch(&principal).await }).await
    }

    async fn count(&self) -> Result<u64, StoreError> {
        self.node.count().await
    }

    /// Whether this node has a quorum (its own store answers from memory).
    async fn ping(&self) -> Result<(), StoreError> {
        self.node.quorate_view().map(drop)
    }

    /// Leaves the cluster (its tasks stop) and closes this node's store.
    async fn close(&self) -> Result<(), StoreError> {
        self.stop.cancel();
        self.node.sessions.close().await
    }
}

/// Documents held by the nodes of a replicated cluster, as one store.
pub struct ReplicatedDocs {
    node: Arc<ReplicaNode>,
}

impl ReplicatedDocs {
    /// The documents of `node`.
    pub fn new(node: Arc<ReplicaNode>) -> Self {
        Self { node }
    }
}

#[async_trait]
impl DocStore for ReplicatedDocs {
    /// An empty document whose every owner left at once is an error (503), not a new document.
    async fn load(&self, key: &DocKey) -> Result<StoredDoc, StoreError> {
        let doc = self.node.load(key).await?;
        if doc.is_empty()
            && let Some(lost) = self.node.lost_key(&PlacementKey::doc(key), "document")
        {
            return Err(lost);
        }
        Ok(doc)
    }

    async fn append(&self, key: &DocKey, update: Vec<u8>) -> Result<u64, StoreError> {
        self.node.append(key, &update).await
    }

    async fn compact(&self, key: &DocKey, snapshot: Vec<u8>, through_seq: u64) -> Result<(), StoreError> {
        self.node.compact(key, &snapshot, through_seq).await
    }

    async fn save_version(
        &self,
        key: &DocKey,
        name: String,
        created_at: Timestamp,
        state: Vec<u8>,
    ) -> Result<VersionMeta, StoreError> {
        self.node.save_version(key, &name, created_at, &state).await
    }

    async fn versions(&self, key: &DocKey) -> Result<Vec<VersionMeta>, StoreError> {
        self.node.versions(key).await
    }

    async fn version(&self, key: &DocKey, id: u64) -> Result<Option<(VersionMeta, Vec<u8>)>, StoreError> {
        self.node.version(key, id).await
    }

    async fn doc_names(&self, scope: &Scope) -> Result<Vec<DocName>, StoreError> {
        self.node.doc_names(scope).await
    }
}

/// The bus between the nodes of a replicated cluster: a notice goes straight to every other
/// live node over the peer connections.
pub struct PeerBus {
    node: Arc<ReplicaNode>,
    origin: u64,
}

impl PeerBus {
    /// The bus of `node`.
    pub fn new(node: Arc<ReplicaNode>) -> Self {
        let origin = node.inbox.origin();
        Self { node, origin }
    }

    /// The inbox a node delivers notices to, for a new node's parts.
    pub fn inbox() -> Arc<Inbox> {
        Arc::new(Inbox::new(Inbox::random_origin()))
    }
}

#[async_trait]
impl Bus for PeerBus {
    /// Sends to every other live node at once; a node that does not take it misses it (a bus
    /// is a notification channel: the store stays the source of truth).
    async fn publish(&self, notice: &Notice) -> Result<(), StoreError> {
        let payload = encode(self.origin, notice, MAX_NOTICE_BYTES);
        let view = self.node.view();
        let others = view.members().iter().filter(|member| member.id != self.node.me);
        let sends = others
            .map(|member| self.node.peers.call(member, Request::Notice { payload: payload.clone() }, &[]));
        for result in futures_util::future::join_all(sends).await {
            if let Err(error) = result {
                tracing::debug!(%error, "a peer missed a notice");
            }
        }
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Heard> {
        self.node.inbox.subscribe()
    }
}
