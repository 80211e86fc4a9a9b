//! [`DelayedDocs`]: the document store face of [`super::AckBeforeWrite`].

use std::sync::Arc;

use async_trait::async_trait;
use continuum_core::{DocKey, DocName, Scope, SessionId, Timestamp};
use continuum_store::{DocStore, StoreError, StoredDoc, VersionMeta};

use super::Shared;
use super::late_writer::{Counted, Write};

/// A [`DocStore`] answering writes before it makes them (see [`super`]): an acknowledged
/// append survives nothing until it is applied, [`super::DELAY`] later.
pub struct DelayedDocs {
    pub(super) shared: Arc<Shared>,
}

#[async_trait]
impl DocStore for DelayedDocs {
    async fn load(&self, key: &DocKey) -> Result<StoredDoc, StoreError> {
        self.shared.docs.load(key).await
    }

    async fn append(&self, key: &DocKey, update: Vec<u8>) -> Result<u64, StoreError> {
        self.append_by(key, update, None).await
    }

    async fn append_by(
        &self,
        key: &DocKey,
        update: Vec<u8>,
        writer: Option<&SessionId>,
    ) -> Result<u64, StoreError> {
        self.shared.refuse_if_closed()?;
        let docs = &self.shared.docs;
        let stored = async { Ok(docs.load(key).await?.last_seq) };
        let seq = self.shared.guesses.next(&Counted::Seq(key.clone()), stored).await?;
        let write = Write::Append { key: key.clone(), update, writer: writer.copied() };
        self.shared.enqueue(write).await?;
        Ok(seq)
    }

    async fn compact(&self, key: &DocKey, snapshot: Vec<u8>, through_seq: u64) -> Result<(), StoreError> {
        self.shared.enqueue(Write::Compact { key: key.clone(), snapshot, through_seq }).await
    }

    async fn save_version(
        &self,
        key: &DocKey,
        name: String,
        created_at: Timestamp,
        state: Vec<u8>,
    ) -> Result<VersionMeta, StoreError> {
        self.shared.refuse_if_closed()?;
        let docs = &self.shared.docs;
        let stored = async { Ok(docs.versions(key).await?.last().map_or(0, |version| version.id)) };
        let id = self.shared.guesses.next(&Counted::Version(key.clone()), stored).await?;
        let write = Write::SaveVersion { key: key.clone(), name: name.clone(), created_at, state };
        self.shared.enqueue(write).await?;
        Ok(VersionMeta { id, name, created_at })
    }

    async fn versions(&self, key: &DocKey) -> Result<Vec<VersionMeta>, StoreError> {
        self.shared.docs.versions(key).await
    }

    async fn version(&self, key: &DocKey, id: u64) -> Result<Option<(VersionMeta, Vec<u8>)>, StoreError> {
        self.shared.docs.version(key, id).await
    }

    async fn doc_names(&self, scope: &Scope) -> Result<Vec<DocName>, StoreError> {
        self.shared.docs.doc_names(scope).await
    }

    async fn scan_docs(&self, after: Option<&DocKey>, limit: usize) -> Result<Vec<DocKey>, StoreError> {
        self.shared.docs.scan_docs(after, limit).await
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use continuum_store::{MemoryDocStore, MemoryStore, SessionStore as _};

    use super::super::{AckBeforeWrite, DELAY};
    use super::*;

    #[tokio::test]
    async fn appends_answer_the_next_numbers_at_once_and_land_after_the_delay() {
        let store = Arc::new(MemoryDocStore::new());
        let delayed = AckBeforeWrite::new(Arc::new(MemoryStore::new()), store.clone());
        let docs = delayed.docs();
        let key = DocKey::parse("user:alice", "draft").unwrap();
        store.append(&key, vec![1]).await.unwrap();
        let answered = Instant::now();
        assert_eq!(docs.append(&key, vec![2]).await.unwrap(), 2);
        assert_eq!(docs.append(&key, vec![3]).await.unwrap(), 3);
        assert_eq!(store.load(&key).await.unwrap().updates, [vec![1]], "not written when acknowledged");
        assert_eq!(docs.load(&key).await.unwrap().last_seq, 1, "reads see the old state");
        let version = docs.save_version(&key, "v".into(), Timestamp::EPOCH, vec![9]).await.unwrap();
        assert_eq!(version.id, 1);
        assert!(store.versions(&key).await.unwrap().is_empty());
        loop {
            let held = store.load(&key).await.unwrap();
            if held.last_seq == 3 {
                assert_eq!(held.updates, [vec![1], vec![2], vec![3]], "applied in order");
                break;
            }
            assert!(answered.elapsed() < Duration::from_secs(10), "never applied");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(answered.elapsed() >= DELAY, "applied {:?} after the answer", answered.elapsed());
        assert_eq!(docs.append(&key, vec![4]).await.unwrap(), 4, "guesses follow the store again");
        delayed.sessions().close().await.unwrap();
        assert_eq!(store.load(&key).await.unwrap().last_seq, 4, "closing applied what was queued");
        assert_eq!(store.versions(&key).await.unwrap().len(), 1);
        assert!(matches!(docs.append(&key, vec![5]).await, Err(StoreError::Closed)));
    }
}
