//! [`DocState`]: everything about a live document that changes — the yrs document, awareness,
//! the attached peers and their outbound queues — and the synchronous steps on it.
//!
//! One mutex guards it (in [`crate::doc_core::Core`], which the [`crate::LiveDoc`] and its tasks
//! share); it is never held across `.await`, so every step here is plain code: apply, encode,
//! fan out with `try_send`.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use continuum_core::{Clock, SessionId};
use continuum_store::StoreError;
use tokio::sync::mpsc;
use yrs::sync::{Awareness, AwarenessUpdate};
use yrs::{ClientID, Doc, ReadTxn, StateVector, Transact, TransactionMut, Update};

use crate::SyncError;
use crate::awareness::{self, PendingAwareness};
use crate::metrics::SyncMetrics;
use crate::outbox::{Outbox, PushError};
use crate::protocol;

/// The most awareness client ids one peer may introduce.
pub(crate) const MAX_CLIENTS_PER_PEER: usize = 16;

/// The most awareness client ids a relay peer ([`crate::PeerOptions::relay`]) may introduce:
/// the devices of one edge on one document, bounded all the same.
pub const MAX_RELAYED_CLIENTS: usize = 1024;

/// A peer's id within its document.
pub(crate) type PeerId = u64;

/// What the document keeps for one attached peer.
struct PeerSlot {
    /// Bounded by [`crate::SyncConfig::outbound_capacity`]; full means the peer is too slow.
    /// Messages are [`Bytes`], so one encoded message is shared by every peer it goes to.
    outbound: Arc<Outbox>,
    /// Set when the document lets go of the peer before the peer lets go of the document.
    detached: Arc<AtomicBool>,
    /// The awareness client ids this peer announced a state for (and did not clear), removed
    /// for everyone when it goes.
    clients: HashSet<ClientID>,
    /// The session that opened the peer, for listings.
    session: Option<SessionId>,
    /// The most awareness client ids it may introduce.
    max_clients: usize,
    /// It relays another tier ([`crate::PeerOptions::relay`]): not a device.
    relay: bool,
}

/// The receiving end the document hands a new peer.
pub(crate) struct Attached {
    pub id: PeerId,
    pub outbound: Arc<Outbox>,
    pub detached: Arc<AtomicBool>,
    pub greeting: Vec<Bytes>,
}

/// A live document's mutable state.
pub(crate) struct DocState {
    /// Owns the yrs document.
    awareness: Awareness,
    peers: BTreeMap<PeerId, PeerSlot>,
    next_peer: PeerId,
    /// An upper bound of the encoded state's size: exact after a load or a full encoding, plus
    /// the size of every update applied since.
    state_bytes: usize,
    /// Awareness changes not yet sent to the peers.
    pending_awareness: PendingAwareness,
    /// The registry's counters.
    pub metrics: Arc<SyncMetrics>,
    /// Set when persisting failed; the document then takes no more changes.
    pub failed: Option<Arc<StoreError>>,
}

/// Awareness timestamps from the injected clock.
struct AwarenessClock(Arc<dyn Clock>);

impl yrs::sync::Clock for AwarenessClock {
    fn now(&self) -> yrs::sync::Timestamp {
        u64::try_from(self.0.now().as_millis()).unwrap_or_default()
    }
}

impl DocState {
    /// Wraps a loaded document whose encoded state is `state_bytes` long; `awareness_wake`
    /// wakes its [`crate::awareness_ticker::AwarenessTicker`].
    pub fn new(
        doc: Doc,
        state_bytes: usize,
        clock: Arc<dyn Clock>,
        metrics: Arc<SyncMetrics>,
        awareness_wake: mpsc::Sender<()>,
    ) -> Self {
        Self {
            awareness: Awareness::with_clock(doc, AwarenessClock(clock)),
            peers: BTreeMap::new(),
            next_peer: 0,
            state_bytes,
            pending_awareness: PendingAwareness::new(awareness_wake),
            metrics,
            failed: None,
        }
    }

    /// The yrs document.
    pub fn doc(&self) -> &Doc {
        self.awareness.doc()
    }

    /// Refuses every change once persisting failed.
    pub fn check_alive(&self) -> Result<(), SyncError> {
        match &self.failed {
            Some(error) => Err(SyncError::Persistence(error.clone())),
            None => Ok(()),
        }
    }

    /// The whole document as one update (what a snapshot or a version stores).
    pub fn full_state(&mut self) -> Vec<u8> {
        let state = self.doc().transact().encode_state_as_update_v1(&StateVector::default());
        self.state_bytes = state.len();
        state
    }

    /// Checks that `adding` more bytes keep the document within `limit`, measuring the state
    /// exactly only when the running estimate says it might not.
    pub fn ensure_room(&mut self, adding: usize, limit: usize) -> Result<(), SyncError> {
        if self.state_bytes.saturating_add(adding) <= limit {
            return Ok(());
        }
        self.full_state();
        if self.state_bytes.saturating_add(adding) <= limit {
            return Ok(());
        }
        Err(SyncError::DocTooLarge { limit })
    }

    /// Runs `change` in one transaction and returns the update it made, or `None` if it changed
    /// nothing. The caller checked room first.
    pub fn transact<E>(
        &mut self,
        change: impl FnOnce(&mut TransactionMut<'_>) -> Result<(), E>,
    ) -> Result<Option<Vec<u8>>, E> {
        let mut txn = self.awareness.doc().transact_mut();
        change(&mut txn)?;
        if !txn.has_changes() {
            return Ok(None);
        }
        let update = txn.encode_update_v1();
        drop(txn);
        self.state_bytes = self.state_bytes.saturating_add(update.len());
        Ok(Some(update))
    }

    /// Applies a peer's update (`raw` as it arrived), if it fits within `limit`, and returns
    /// what to broadcast and persist: what it integrated, or `None` if the document had it all.
    /// While the document holds structs it cannot integrate yet (their dependencies have not
    /// arrived), the raw update is kept instead, so what arrived out of order is not lost at the
    /// next reload.
    pub fn apply_update(
        &mut self,
        update: Update,
        raw: &[u8],
        limit: usize,
    ) -> Result<Option<Vec<u8>>, SyncError> {
        self.ensure_room(raw.len(), limit)?;
        let mut pending = false;
        let integrated = self.transact(|txn| {
            txn.apply_update(update).map_err(SyncError::Rejected)?;
            pending = txn.has_missing_updates();
            Ok(())
        })?;
        if !pending {
            return Ok(integrated);
        }
        self.state_bytes = self.state_bytes.saturating_add(raw.len());
        Ok(Some(raw.to_vec()))
    }

    /// Applies updates already in the store (in any order: what yrs cannot integrate yet waits
    /// for its dependencies) and sends what was new to every peer. Returns how many of them
    /// changed the document.
    ///
    /// They are durable already (this node or another appended them), so they are not queued
    /// for the store again, and they are not held to the document size limit: the node that
    /// accepted them enforced it, and refusing them here would only make the replicas diverge.
    pub fn merge_durable<'a>(
        &mut self,
        updates: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<usize, SyncError> {
        self.check_alive()?;
        let mut changed = 0;
        for raw in updates {
            let update = protocol::decode_update(raw).map_err(|error| SyncError::Corrupt(error.into()))?;
            if let Some(integrated) = self.apply_update(update, raw, usize::MAX)? {
                self.broadcast_update(None, protocol::update(integrated).into());
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// The update a peer lacks, given its state vector.
    pub fn diff(&self, state_vector: &StateVector) -> Vec<u8> {
        self.doc().transact().encode_state_as_update_v1(state_vector)
    }

    /// Attaches a peer with an outbound queue of `capacity` and returns its greeting: the
    /// server's sync step 1, then the current awareness states if there are any.
    pub fn attach(&mut self, capacity: usize, session: Option<SessionId>, relay: bool) -> Attached {
        let id = self.next_peer;
        self.next_peer += 1;
        let outbound = Arc::new(Outbox::new(capacity));
        // A document whose persistence failed takes no new peers: this one starts detached.
        let detached = Arc::new(AtomicBool::new(self.failed.is_some()));
        if self.failed.is_none() {
            let slot = PeerSlot {
                outbound: outbound.clone(),
                detached: detached.clone(),
                clients: HashSet::new(),
                session,
                max_clients: if relay { MAX_RELAYED_CLIENTS } else { MAX_CLIENTS_PER_PEER },
                relay,
            };
            self.peers.insert(id, slot);
        }
        let mut greeting = vec![Bytes::from(protocol::sync_step1(self.doc().transact().state_vector()))];
        greeting.extend(self.awareness_states().into_iter().map(Bytes::from));
        Attached { id, outbound, detached, greeting }
    }

    /// The session of every attached peer, in attach order (`None` for peers opened without one).
    pub fn peer_sessions(&self) -> Vec<Option<SessionId>> {
        self.peers.values().map(|slot| slot.session).collect()
    }

    /// How many peers are attached.
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }

    /// How many attached peers are devices, not relays of another tier.
    pub fn device_count(&self) -> usize {
        self.peers.values().filter(|slot| !slot.relay).count()
    }

    /// Whether the peer is still attached.
    pub fn is_attached(&self, id: PeerId) -> bool {
        self.peers.contains_key(&id)
    }

    /// Every known awareness state, in messages of bounded size ([`awareness::messages`]);
    /// none when there is no state.
    pub fn awareness_states(&self) -> Vec<Vec<u8>> {
        match self.awareness.update() {
            Ok(update) if !update.clients.is_empty() => awareness::messages(update),
            _ => Vec::new(),
        }
    }

    /// Every known awareness state, in messages of bounded size; one empty message when there
    /// is none (the answer to a query).
    pub fn awareness_query(&self) -> Vec<Vec<u8>> {
        let update = self.awareness.update().unwrap_or(AwarenessUpdate { clients: Default::default() });
        awareness::messages(update)
    }

    /// Applies awareness states sent by peer `from`, remembers which clients it speaks for, and
    /// marks what changed for the next flush ([`DocState::flush_awareness`]).
    ///
    /// A peer introduces at most [`MAX_CLIENTS_PER_PEER`] client ids (a browser tab has one; a
    /// relay of another tier [`MAX_RELAYED_CLIENTS`]); states of further unknown
    /// clients, and removals of clients nobody knows, are dropped, so a peer cannot grow the
    /// awareness table without bound.
    pub fn apply_awareness(&mut self, from: PeerId, mut update: AwarenessUpdate) {
        let Some(slot) = self.peers.get(&from) else { return };
        let mut room = slot.max_clients.saturating_sub(slot.clients.len());
        update.clients.retain(|client, entry| {
            if slot.clients.contains(client) || self.awareness.meta(*client).is_some() {
                return true;
            }
            if entry.json.as_ref() == "null" || room == 0 {
                return false;
            }
            room -= 1;
            true
        });
        let Ok(Some(summary)) = self.awareness.apply_update_summary(update) else { return };
        if let Some(slot) = self.peers.get_mut(&from) {
            slot.clients.extend(summary.added.iter().chain(&summary.updated));
            for removed in &summary.removed {
                slot.clients.remove(removed);
            }
        }
        self.pending_awareness.mark(summary.all_changes());
    }

    /// Sends every awareness change marked since the last flush as one message per peer (or a
    /// few, past [`awareness::MAX_STATES_BYTES`] of states), encoded once and shared by every
    /// peer: the current state of each changed client, or its removal. A peer is skipped when
    /// every changed client is one of its own (it knows its own states). Called once per tick.
    pub fn flush_awareness(&mut self) {
        let changed = self.pending_awareness.take();
        // Every marked client is in the table (states are removed, never forgotten); filter
        // anyway, since one unknown id would fail the whole encoding.
        let known: Vec<ClientID> =
            changed.iter().copied().filter(|client| self.awareness.meta(*client).is_some()).collect();
        if known.is_empty() {
            return;
        }
        let Ok(update) = self.awareness.update_with_clients(known.iter().copied()) else { return };
        let messages: Vec<Bytes> = awareness::messages(update).into_iter().map(Bytes::from).collect();
        let mut too_slow = Vec::new();
        let mut sent = 0u64;
        for (id, slot) in &self.peers {
            let own = known.len() <= slot.clients.len() && known.iter().all(|c| slot.clients.contains(c));
            if own {
                continue;
            }
            for message in &messages {
                match slot.outbound.try_push(message.clone()) {
                    Ok(()) => sent += 1,
                    Err(PushError::Full) => {
                        too_slow.push(*id);
                        break;
                    }
                    Err(PushError::Closed) => break,
                }
            }
        }
        self.metrics.add_awareness_flush(sent);
        self.detach_too_slow(too_slow);
    }

    /// Sends the update `message` to every attached peer but `except` (each gets a reference
    /// to the one encoded message, not a copy). A peer whose queue is full is detached.
    pub fn broadcast_update(&mut self, except: Option<PeerId>, message: Bytes) {
        let mut too_slow = Vec::new();
        let mut sent = 0u64;
        for (id, slot) in &self.peers {
            if Some(*id) == except {
                continue;
            }
            match slot.outbound.try_push(message.clone()) {
                Ok(()) => sent += 1,
                Err(PushError::Full) => too_slow.push(*id),
                Err(PushError::Closed) => {}
            }
        }
        self.metrics.add_updates_delivered(sent);
        self.detach_too_slow(too_slow);
    }

    /// Sends `message` to one peer, detaching it if its queue is full.
    pub fn send_to(&mut self, id: PeerId, message: Bytes) {
        let Some(slot) = self.peers.get(&id) else { return };
        if let Err(PushError::Full) = slot.outbound.try_push(message) {
            self.detach_too_slow([id]);
        }
    }

    /// Detaches peers whose outbound queue is full: their queued messages are dropped and the
    /// transport closes their connection, so the client reconnects and resyncs.
    fn detach_too_slow(&mut self, peers: impl IntoIterator<Item = PeerId>) {
        for id in peers {
            tracing::debug!(peer = id, "outbound queue full; detaching the peer");
            if self.peers.contains_key(&id) {
                self.metrics.add_detached_for_lag(1);
            }
            self.detach(id);
        }
    }

    /// Messages waiting in the peers' outbound queues: `(sum, longest)`.
    pub fn outbound_depth(&self) -> (u64, u64) {
        self.peers.values().fold((0, 0), |(sum, max), slot| {
            let queued = slot.outbound.len() as u64;
            (sum + queued, max.max(queued))
        })
    }

    /// Lets go of a peer: its queue is dropped, and the awareness states it announced (and no
    /// other peer did) are removed and marked for the next flush. Clients that never set a
    /// state, or cleared it, are not in its list: their leaving sends nothing.
    pub fn detach(&mut self, id: PeerId) {
        let Some(slot) = self.peers.remove(&id) else { return };
        slot.detached.store(true, Ordering::SeqCst);
        slot.outbound.close();
        // A client that reconnected may already speak through another peer: keep its state.
        let clients: Vec<ClientID> = slot
            .clients
            .into_iter()
            .filter(|client| !self.peers.values().any(|other| other.clients.contains(client)))
            .collect();
        for client in &clients {
            self.awareness.remove_state(*client);
        }
        self.pending_awareness.mark(clients);
    }

    /// Lets go of every peer (the document failed): their clients reconnect and resync.
    pub fn detach_all(&mut self) {
        for (_, slot) in std::mem::take(&mut self.peers) {
            slot.detached.store(true, Ordering::SeqCst);
            slot.outbound.close();
        }
    }
}
