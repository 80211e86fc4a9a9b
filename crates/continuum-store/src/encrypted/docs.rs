//! [`EncryptedDocs`]: a [`DocStore`] that keeps each update, snapshot and version state as an
//! XChaCha20-Poly1305 blob bound to its document and to what the bytes are.
//!
//! Bytes an inner store returns that do not start with the blob's magic were written before
//! encryption was turned on; they are returned as they are (a document's log may mix both
//! until its next compaction rewrites the snapshot encrypted).

use std::sync::Arc;

use async_trait::async_trait;
use continuum_core::at_rest::is_encrypted;
use continuum_core::{DataKeyRing, DocKey, DocName, Scope, Timestamp};

use crate::docs::{DocStore, StoredDoc, VersionMeta};
use crate::encrypted::error::AtRestError;
use crate::store::StoreError;

/// What a document's bytes are: part of the associated data, so an update cannot pass for a
/// snapshot or a version's state. Within one kind, blobs of one document can be exchanged:
/// they are that document's content either way.
#[derive(Clone, Copy)]
enum Part {
    Update,
    Snapshot,
    Version,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Update => "update",
            Part::Snapshot => "snapshot",
            Part::Version => "version state",
        }
    }
}

/// A [`DocStore`] encrypting the content `D` keeps.
pub struct EncryptedDocs<D: ?Sized> {
    inner: Arc<D>,
    ring: DataKeyRing,
}

impl<D: DocStore + ?Sized> EncryptedDocs<D> {
    /// `inner`, with the content it keeps encrypted under `ring` (the first key encrypts).
    pub fn new(inner: Arc<D>, ring: DataKeyRing) -> Self {
        Self { inner, ring }
    }

    fn seal(&self, key: &DocKey, part: Part, bytes: &[u8]) -> Vec<u8> {
        self.ring.encrypt(&context(key, part), bytes)
    }

    fn open(&self, key: &DocKey, part: Part, stored: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        if !is_encrypted(&stored) {
            return Ok(stored);
        }
        self.ring.decrypt(&context(key, part), &stored).map_err(|source| {
            StoreError::backend(AtRestError::Decrypt {
                record: format!("{} of document {key}", part.name()),
                source,
            })
        })
    }
}

/// The associated data binding a blob to its document and part. NUL separates the fields:
/// scopes and names are printable, so two documents never share a context.
fn context(key: &DocKey, part: Part) -> Vec<u8> {
    format!("doc\0{}\0{}\0{}", key.scope, key.name, part.name()).into_bytes()
}

#[async_trait]
impl<D: DocStore + ?Sized> DocStore for EncryptedDocs<D> {
    async fn load(&self, key: &DocKey) -> Result<StoredDoc, StoreError> {
        let stored = self.inner.load(key).await?;
        Ok(StoredDoc {
            snapshot: stored.snapshot.map(|bytes| self.open(key, Part::Snapshot, bytes)).transpose()?,
            updates: stored
                .updates
                .into_iter()
                .map(|bytes| self.open(key, Part::Update, bytes))
                .collect::<Result<_, _>>()?,
            last_seq: stored.last_seq,
        })
    }

    async fn append(&self, key: &DocKey, update: Vec<u8>) -> Result<u64, StoreError> {
        self.inner.append(key, self.seal(key, Part::Update, &update)).await
    }

    async fn compact(&self, key: &DocKey, snapshot: Vec<u8>, through_seq: u64) -> Result<(), StoreError> {
        self.inner.compact(key, self.seal(key, Part::Snapshot, &snapshot), through_seq).await
    }

    async fn save_version(
        &self,
        key: &DocKey,
        name: String,
        created_at: Timestamp,
        state: Vec<u8>,
    ) -> Result<VersionMeta, StoreError> {
        self.inner.save_version(key, name, created_at, self.seal(key, Part::Version, &state)).await
    }

    async fn versions(&self, key: &DocKey) -> Result<Vec<VersionMeta>, StoreError> {
        self.inner.versions(key).await
    }

    async fn version(&self, key: &DocKey, id: u64) -> Result<Option<(VersionMeta, Vec<u8>)>, StoreError> {
        match self.inner.version(key, id).await? {
            Some((meta, state)) => Ok(Some((meta, self.open(key, Part::Version, state)?))),
            None => Ok(None),
        }
    }

    async fn doc_names(&self, scope: &Scope) -> Result<Vec<DocName>, StoreError> {
        self.inner.doc_names(scope).await
    }

    async fn scan_docs(&self, after: Option<&DocKey>, limit: usize) -> Result<Vec<DocKey>, StoreError> {
        self.inner.scan_docs(after, limit).await
    }
}

#[cfg(test)]
mod tests {
    use continuum_core::DataKey;

    use super::*;
    use crate::{MemoryDocStore, testkit};

    fn ring() -> DataKeyRing {
        DataKeyRing::new(vec![DataKey::generate()]).unwrap()
    }

    #[tokio::test]
    async fn the_walk_replication_needs_passes_through() {
        let store = EncryptedDocs::new(Arc::new(MemoryDocStore::new()), ring());
        let key = DocKey::parse("user:a", "d").unwrap();
        store.append(&key, b"u".to_vec()).await.unwrap();
        assert_eq!(store.scan_docs(None, 10).await.expect("not refused"), [key]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance_over_the_decorator() {
        testkit::docs::run_all(|| async {
            Arc::new(EncryptedDocs::new(Arc::new(MemoryDocStore::new()), ring())) as Arc<dyn DocStore>
        })
        .await;
    }

    #[tokio::test]
    async fn the_inner_store_holds_ciphertext_bound_to_the_document_and_part() {
        let inner = Arc::new(MemoryDocStore::new());
        let store = EncryptedDocs::new(Arc::clone(&inner), ring());
        let (a, b) = (testkit::docs::doc("user:alice", "a"), testkit::docs::doc("user:alice", "b"));
        store.append(&a, b"distinctive text".to_vec()).await.unwrap();
        store.append(&b, b"other".to_vec()).await.unwrap();
        let raw = inner.load(&a).await.unwrap().updates.remove(0);
        assert!(is_encrypted(&raw) && !raw.windows(11).any(|w| w == b"distinctive"));
        assert_eq!(store.load(&a).await.unwrap().updates, vec![b"distinctive text".to_vec()]);
        // The same blob under another document, or as a snapshot of its own, does not open.
        inner.append(&b, raw.clone()).await.unwrap();
        assert!(matches!(store.load(&b).await, Err(StoreError::Backend(_))));
        inner.compact(&a, raw, 1).await.unwrap();
        assert!(matches!(store.load(&a).await, Err(StoreError::Backend(_))));
    }

    #[tokio::test]
    async fn plaintext_written_before_is_read_beside_new_encrypted_bytes() {
        let inner = Arc::new(MemoryDocStore::new());
        let key = testkit::docs::doc("user:alice", "notes");
        inner.append(&key, vec![1, 2, 3]).await.unwrap();
        inner.save_version(&key, "v1".into(), testkit::START, vec![4, 5]).await.unwrap();
        let store = EncryptedDocs::new(Arc::clone(&inner), ring());
        store.append(&key, vec![6, 7]).await.unwrap();
        assert_eq!(store.load(&key).await.unwrap().updates, vec![vec![1, 2, 3], vec![6, 7]]);
        assert_eq!(store.version(&key, 1).await.unwrap().unwrap().1, vec![4, 5]);
        store.compact(&key, vec![8], 2).await.unwrap();
        assert!(is_encrypted(inner.load(&key).await.unwrap().snapshot.as_deref().unwrap()));
        assert_eq!(store.load(&key).await.unwrap().snapshot, Some(vec![8]));
    }
}
