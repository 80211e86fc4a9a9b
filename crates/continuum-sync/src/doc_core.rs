//! [`Core`]: what a live document shares with the tasks that serve it — its key and its state
//! under one lock — and the face it shows its persistence task ([`PersistedDoc`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use continuum_core::DocKey;
use continuum_store::{StoreError, StoredDoc};

use crate::SyncError;
use crate::ack::encode_ack_as;
use crate::persist::PersistedDoc;
use crate::state::{DocState, PeerId};

/// What a live document, its persistence task and its awareness ticker share.
pub(crate) struct Core {
    pub key: DocKey,
    /// Never held across `.await`.
    state: Mutex<DocState>,
}

impl Core {
    pub fn new(key: DocKey, state: DocState) -> Self {
        Self { key, state: Mutex::new(state) }
    }

    /// The document's state. A panic while it was held cannot leave it half-changed for yrs
    /// (transactions commit on drop), so a poisoned lock is taken over.
    pub fn lock(&self) -> MutexGuard<'_, DocState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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
