//! The [`DocStore`] trait: where continuity documents are kept — an append-only update log per
//! document, compacted into a snapshot, and named versions.
//!
//! Updates are opaque bytes to a store (Yjs v1 updates, encoded and applied by
//! `continuum-sync`). Every update gets a sequence number, increasing per document from 1.

use async_trait::async_trait;
use continuum_core::{DocKey, DocName, Scope, SessionId, Timestamp};

use crate::store::StoreError;

/// Everything stored for one document, in the order it must be applied: the snapshot, then the
/// updates appended after it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredDoc {
    /// The compacted state, if the document was ever compacted.
    pub snapshot: Option<Vec<u8>>,
    /// Updates appended after the snapshot, oldest first.
    pub updates: Vec<Vec<u8>>,
    /// The sequence number of the last update ever appended (0 for a new document). Compaction
    /// does not reset it.
    pub last_seq: u64,
}

impl StoredDoc {
    /// Whether nothing was ever stored.
    pub fn is_empty(&self) -> bool {
        self.snapshot.is_none() && self.updates.is_empty()
    }
}

/// The rule every store applies before a compaction: `through_seq` must lie between the
/// `through_seq` of the document's current snapshot (0 if none) and its `last_seq`, both
/// included. Compacting through the same number again is allowed (it replaces the snapshot).
pub fn check_compaction(through_seq: u64, last_seq: u64, compacted_through: u64) -> Result<(), StoreError> {
    if through_seq > last_seq {
        return Err(StoreError::InvalidWrite("compaction past the last appended update"));
    }
    if through_seq < compacted_through {
        return Err(StoreError::InvalidWrite("compaction older than the current snapshot"));
    }
    Ok(())
}

/// A named version of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionMeta {
    /// Increasing per document from 1.
    pub id: u64,
    /// The name it was given.
    pub name: String,
    /// When it was taken.
    pub created_at: Timestamp,
}

/// Where continuity documents are kept. Each call is atomic on its own, and reads see every
/// write acknowledged before they started. Sequence numbers and version ids are assigned by the
/// store, never by callers, so concurrent appends to one document get distinct numbers.
///
/// A document exists once anything was written for it (an update, a snapshot or a version); a
/// refused write creates nothing.
///
/// Implementations document what an acknowledged append survives, as [`crate::SessionStore`]
/// implementations do. `testkit::docs` (feature `testkit`) checks this contract.
#[async_trait]
pub trait DocStore: Send + Sync + 'static {
    /// The document's snapshot and updates; an empty [`StoredDoc`] for a document never written.
    async fn load(&self, key: &DocKey) -> Result<StoredDoc, StoreError>;

    /// Appends one update to the document's log and returns its sequence number. When this
    /// returns `Ok`, the update is as durable as the store makes anything.
    async fn append(&self, key: &DocKey, update: Vec<u8>) -> Result<u64, StoreError>;

    /// [`DocStore::append`] of an update written by the session `writer` (`None`: by the
    /// server itself, or a peer without a session). A store that records who wrote what — an
    /// edge's queue, whose replay refuses a revoked session's updates — overrides it; the
    /// default forgets the writer and appends.
    async fn append_by(
        &self,
        key: &DocKey,
        update: Vec<u8>,
        writer: Option<&SessionId>,
    ) -> Result<u64, StoreError> {
        let _ = writer;
        self.append(key, update).await
    }

    /// [`DocStore::append`] of an update that came down from the tier above (an edge's
    /// connection to its origin), which already holds it: a store that sends what it is given
    /// upstream — an edge's queue — keeps this one and does not send it back. The default
    /// appends, as for any other update.
    async fn append_from_upstream(&self, key: &DocKey, update: Vec<u8>) -> Result<u64, StoreError> {
        self.append(key, update).await
    }

    /// Replaces the snapshot and every update with a sequence number up to `through_seq` by
    /// `snapshot`, atomically; updates after `through_seq` stay, and `last_seq` does not change.
    /// `snapshot` must contain the old snapshot and those updates (the caller merges them).
    ///
    /// Refused with [`StoreError::InvalidWrite`], changing nothing, when `through_seq` is past
    /// `last_seq` (an update not appended yet) or before the `through_seq` of the current
    /// snapshot (a stale compaction that lost a race: its snapshot lacks updates the current one
    /// holds, so applying it would lose them). See [`check_compaction`].
    async fn compact(&self, key: &DocKey, snapshot: Vec<u8>, through_seq: u64) -> Result<(), StoreError>;

    /// Stores a named version holding `state` (a full-state update) and returns its metadata.
    async fn save_version(
        &self,
        key: &DocKey,
        name: String,
        created_at: Timestamp,
        state: Vec<u8>,
    ) -> Result<VersionMeta, StoreError>;

    /// The document's versions, oldest first.
    async fn versions(&self, key: &DocKey) -> Result<Vec<VersionMeta>, StoreError>;

    /// One version and its state, or `None`.
    async fn version(&self, key: &DocKey, id: u64) -> Result<Option<(VersionMeta, Vec<u8>)>, StoreError>;

    /// The names of every stored document of `scope` and of no other scope (`user:a/b` is not
    /// inside `user:a`), sorted by [`DocName`]'s order (for per-principal limits).
    async fn doc_names(&self, scope: &Scope) -> Result<Vec<DocName>, StoreError>;

    /// Up to `limit` documents with a [`DocKey::storage_key`] after `after`'s (from the first
    /// when `None`), in that order: how a replica walks the documents it holds to hand them to
    /// their new owners. Stores that cannot walk their documents refuse with
    /// [`StoreError::InvalidWrite`]; the default does.
    async fn scan_docs(&self, after: Option<&DocKey>, limit: usize) -> Result<Vec<DocKey>, StoreError> {
        let _ = (after, limit);
        Err(StoreError::InvalidWrite("this store cannot walk its documents"))
    }
}
