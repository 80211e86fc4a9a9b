//! [`LiveDoc`]: one continuity document in memory, shared by its peers and the JSON API, with
//! its changes flowing to the store behind it.

use std::sync::Arc;

use continuum_core::{Clock, DocKey};
use continuum_store::DocStore;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use yrs::{ReadTxn, Transact};

use crate::doc_core::Core;
use crate::json::doc_to_json;
use crate::patch::patch_roots;
use crate::persist::Job;
use crate::protocol;
use crate::state::{DocState, PeerId};
use crate::{SyncConfig, SyncError};

/// A continuity document loaded in memory: the yrs document every peer of it syncs with.
///
/// Obtained from [`crate::DocRegistry::open`]; there is one per document however many callers
/// hold it. Every change — a peer's update, [`LiveDoc::patch_json`], [`LiveDoc::restore`] — is
/// applied and broadcast at once, then appended to the store in the order applied. When the last
/// peer and the last `Arc<LiveDoc>` are dropped, the queued changes are written and the document
/// leaves memory.
pub struct LiveDoc {
    pub(crate) core: Arc<Core>,
    pub(crate) config: Arc<SyncConfig>,
    pub(crate) store: Arc<dyn DocStore>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Bounded by [`SyncConfig::persist_capacity`]; senders wait for room.
    pub(crate) jobs: mpsc::Sender<Job>,
    /// Told after a peer attaches or detaches ([`crate::DocRegistry::on_peers`]).
    pub(crate) on_peers: Option<PeersHook>,
}

/// Told after a peer attached to or detached from `doc` (read [`LiveDoc::peer_count`] for where
/// it stands now: two changes close together may be told after both). Called outside the
/// document's lock, on the task that connected or dropped the peer; it must not block.
pub type PeersHook = Arc<dyn Fn(&Arc<LiveDoc>) + Send + Sync>;

/// Who a change comes from, and what it owes them once durable.
pub(crate) struct Origin {
    /// The peer that made it, which does not get it back.
    pub peer: Option<PeerId>,
    /// The ack count to send that peer once durable (for peers with acks on).
    pub ack: Option<u64>,
    /// Whether the caller waits until the change is durable.
    pub waits: bool,
    /// The session whose peer made the change, if any (the persister's batch key).
    pub writer: Option<continuum_core::SessionId>,
    /// The change came down from the tier above: kept by the store, not sent up again.
    pub from_upstream: bool,
}

impl Origin {
    /// A change made through the JSON API, whose caller waits until it is durable.
    pub fn api() -> Self {
        Self { peer: None, ack: None, waits: true, writer: None, from_upstream: false }
    }

    /// A change that came down from the tier above; nobody waits for it.
    pub fn upstream() -> Self {
        Self { peer: None, ack: None, waits: false, writer: None, from_upstream: true }
    }
}

/// Told once a change is durable, or that persisting it failed.
pub(crate) type Durable = oneshot::Receiver<Result<(), Arc<continuum_store::StoreError>>>;

impl LiveDoc {
    /// The document's key.
    pub fn key(&self) -> &DocKey {
        &self.core.key
    }

    /// How many peers are attached.
    pub fn peer_count(&self) -> usize {
        self.core.lock().peer_count()
    }

    /// How many attached peers are devices: every peer but relays of another tier
    /// ([`crate::PeerOptions::relay`]).
    pub fn device_count(&self) -> usize {
        self.core.lock().device_count()
    }

    /// The document as JSON: one member per root-level shared type — maps (shared or plain) as
    /// objects, arrays as arrays, text as strings.
    pub fn to_json(&self) -> Value {
        doc_to_json(&self.core.lock().doc().transact())
    }

    /// The document's state vector (what it has seen from every client).
    pub fn state_vector(&self) -> yrs::StateVector {
        self.core.lock().doc().transact().state_vector()
    }

    /// Applies a JSON patch in one transaction: `patch` is an object whose members name root
    /// maps, each an RFC 7396 merge patch for that map (`null` clears it). Peers receive the
    /// change at once.
    ///
    /// Durability: when this returns `Ok`, the change (and everything applied before it) has
    /// been appended to the store and is as durable as the store makes an acknowledged append.
    pub async fn patch_json(&self, patch: &Value) -> Result<(), SyncError> {
        let estimate = serde_json::to_vec(patch).map_or(0, |bytes| bytes.len()).saturating_mul(2) + 64;
        let durable = self
            .commit(Origin::api(), |state| {
                state.ensure_room(estimate, self.config.max_doc_bytes)?;
                state.transact(|txn| patch_roots(txn, patch))
            })
            .await?;
        Self::wait_durable(durable).await
    }

    /// Waits until every change applied so far is durable in the store.
    pub async fn flush(&self) -> Result<(), SyncError> {
        let durable = self.commit(Origin::api(), |_| Ok(None)).await?;
        Self::wait_durable(durable).await
    }

    /// Applies a change under the lock, broadcasts the update it made to every peer but its
    /// origin, and queues it for the store behind everything applied before it. Room in the
    /// queue is reserved before the lock is taken, so the log keeps the order of application.
    /// A change that made nothing is still queued (as a marker) when an ack or a waiter depends
    /// on it, so that they come after everything queued before. Returns the receiver told once
    /// the change is durable, if the origin waits.
    pub(crate) async fn commit(
        &self,
        origin: Origin,
        change: impl FnOnce(&mut DocState) -> Result<Option<Vec<u8>>, SyncError>,
    ) -> Result<Option<Durable>, SyncError> {
        let permit = match self.jobs.reserve().await {
            Ok(permit) => permit,
            Err(_) => return Err(self.failure()),
        };
        let mut state = self.core.lock();
        state.check_alive()?;
        if let Some(peer) = origin.peer
            && !state.is_attached(peer)
        {
            return Err(SyncError::Detached);
        }
        let update = change(&mut state)?;
        if let Some(update) = &update {
            state.broadcast_update(origin.peer, protocol::update_message(update).into());
        }
        let ack = origin.peer.zip(origin.ack);
        if update.is_none() && ack.is_none() && !origin.waits {
            return Ok(None);
        }
        let (durable, waiter) = if origin.waits {
            let (durable, waiter) = oneshot::channel();
            (Some(durable), Some(waiter))
        } else {
            (None, None)
        };
        permit.send(Job { update, ack, writer: origin.writer, from_upstream: origin.from_upstream, durable });
        Ok(waiter)
    }

    /// Waits for a queued change to be durable.
    pub(crate) async fn wait_durable(durable: Option<Durable>) -> Result<(), SyncError> {
        let Some(durable) = durable else { return Ok(()) };
        match durable.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(SyncError::Persistence(error)),
            Err(_) => Err(SyncError::Closed),
        }
    }

    /// The error to report once the persistence task is gone.
    fn failure(&self) -> SyncError {
        match self.core.lock().check_alive() {
            Err(error) => error,
            Ok(()) => SyncError::Closed,
        }
    }

    /// Detaches a dropped peer.
    pub(crate) fn detach(self: &Arc<Self>, peer: PeerId) {
        self.core.lock().detach(peer);
        self.peers_changed();
    }

    /// Tells the registry's [`PeersHook`], if there is one, that the peers changed.
    pub(crate) fn peers_changed(self: &Arc<Self>) {
        if let Some(hook) = &self.on_peers {
            hook(self);
        }
    }
}

impl std::fmt::Debug for LiveDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveDoc").field("key", &self.core.key).finish_non_exhaustive()
    }
}
