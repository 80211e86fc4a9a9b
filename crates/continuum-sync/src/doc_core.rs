//! [`Core`]: what a live document shares with the tasks that serve it — its key and its state
//! under one lock — and the face it shows its persistence task ([`PersistedDoc`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use continuum_core::DocKey;
use continuum_store::{StoreError, StoredDoc};

use crate::SyncError;
use crate::ack::encode_ack_as;
use crate::persist::{PersistedDoc, UpstreamCheck};
use crate::state::{DocState, PeerId};

/// What a live document, its persistence task and its awareness ticker share.
pub(crate) struct Core {
    pub key: DocKey,
    /// Never held across `.await`.
    state: Mutex<DocState>,
    /// Acks already sent as `edge`, waiting for the appends through their log seq to reach the
    /// origin, oldest first; bounded by [`MAX_HELD`]. Taken only with `state` held.
    held: Mutex<std::collections::VecDeque<(u64, BTreeMap<PeerId, u64>)>>,
}

/// Held batches of acks per document at most; past it the two oldest merge (their cloud ack
/// then waits for the later of the two: late, never early).
const MAX_HELD: usize = 1024;

impl Core {
    pub fn new(key: DocKey, state: DocState) -> Self {
        Self { key, state: Mutex::new(state), held: Mutex::default() }
    }

    /// The document's state. A panic while it was held cannot leave it half-changed for yrs
    /// (transactions commit on drop), so a poisoned lock is taken over.
    pub fn lock(&self) -> MutexGuard<'_, DocState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Core {
    /// Sends the cloud acks of the held batches whose appends have reached the origin, in
    /// order; stops at the first that has not.
    pub fn release_upstream(&self, upstream: &UpstreamCheck) {
        let mut state = self.lock();
        let mut held = self.held.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut ready = Vec::new();
        while let Some((seq, _)) = held.front() {
            if !upstream(&self.key, *seq) {
                break;
            }
            ready.extend(held.pop_front().map(|(_, acks)| acks).into_iter().flatten());
        }
        for (peer, durable) in crate::ack::latest_per_peer(ready) {
            state.send_to(peer, encode_ack_as(crate::ack::MSG_ACK, durable).into());
        }
    }
}

impl PersistedDoc for Core {
    fn key(&self) -> &DocKey {
        &self.key
    }

    fn send_acks(&self, tag: u64, acks: BTreeMap<PeerId, u64>) {
        let mut state = self.lock();
        for (peer, durable) in acks {
            state.send_to(peer, encode_ack_as(tag, durable).into());
        }
    }

    fn hold_for_upstream(&self, seq: u64, acks: BTreeMap<PeerId, u64>, upstream: &UpstreamCheck) {
        {
            // Checked and held under the document's lock, as `release_upstream` checks: a
            // release that comes after the check sees the held batch.
            let _state = self.lock();
            let mut held = self.held.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            held.push_back((seq, acks));
            if held.len() > MAX_HELD
                && let (Some((_, first)), Some((second_seq, second))) = (held.pop_front(), held.pop_front())
            {
                let merged =
                    crate::ack::latest_per_peer(first.into_iter().chain(second)).into_iter().collect();
                held.push_front((second_seq, merged));
            }
        }
        self.release_upstream(upstream);
    }

    fn merge_for_snapshot(&self, stored: &StoredDoc) -> Result<Vec<u8>, SyncError> {
        let mut state = self.lock();
        state.merge_durable(stored.snapshot.iter().chain(&stored.updates).map(Vec::as_slice))?;
        Ok(state.full_state())
    }

    fn fail(&self, error: Arc<StoreError>) {
        let mut state = self.lock();
        state.failed = Some(error);
        state.detach_all();
    }
}
