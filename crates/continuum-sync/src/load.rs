//! Loading a document from the store: the snapshot, then every update after it, all applied
//! before anyone is served.

use continuum_core::DocKey;
use continuum_store::DocStore;
use yrs::{Doc, ReadTxn, StateVector, Transact};

use crate::SyncError;
use crate::persist::LogPosition;
use crate::protocol::decode_update;

/// A document as the store holds it, ready to serve.
pub(crate) struct Loaded {
    pub doc: Doc,
    /// The length of the encoded state.
    pub state_bytes: usize,
    pub position: LogPosition,
}

/// Loads `key` completely. The document gets a fresh client id, so changes the server makes
/// (JSON patches, restores) never reuse an id an earlier incarnation wrote with.
pub(crate) async fn load(store: &dyn DocStore, key: &DocKey) -> Result<Loaded, SyncError> {
    let stored = store.load(key).await.map_err(SyncError::Store)?;
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        for bytes in stored.snapshot.iter().chain(&stored.updates) {
            let update = decode_update(bytes).map_err(|error| SyncError::Corrupt(error.into()))?;
            txn.apply_update(update).map_err(|error| SyncError::Corrupt(error.into()))?;
        }
    }
    let state_bytes = doc.transact().encode_state_as_update_v1(&StateVector::default()).len();
    let position = LogPosition { last_seq: stored.last_seq, logged: stored.updates.len() };
    Ok(Loaded { doc, state_bytes, position })
}
