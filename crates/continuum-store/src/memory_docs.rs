//! [`MemoryDocStore`]: a [`DocStore`] in process memory, for tests and single-process use.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use continuum_core::{DocKey, DocName, Scope, Timestamp};

use crate::docs::{DocStore, StoredDoc, VersionMeta, check_compaction};
use crate::store::StoreError;

#[derive(Debug, Default)]
struct Doc {
    snapshot: Option<Vec<u8>>,
    /// The `through_seq` of the last compaction (0 if none): the snapshot holds every update up
    /// to it.
    compacted_through: u64,
    /// Sequence number → update, for updates after the snapshot.
    updates: BTreeMap<u64, Vec<u8>>,
    last_seq: u64,
    versions: Vec<(VersionMeta, Vec<u8>)>,
}

/// Continuity documents in memory.
///
/// Durability: none. An acknowledged append survives only as long as the process.
#[derive(Debug, Default)]
pub struct MemoryDocStore {
    docs: Mutex<HashMap<DocKey, Doc>>,
}

impl MemoryDocStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, apply: impl FnOnce(&mut HashMap<DocKey, Doc>) -> T) -> T {
        let mut docs = self.docs.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        apply(&mut docs)
    }
}

#[async_trait]
impl DocStore for MemoryDocStore {
    async fn load(&self, key: &DocKey) -> Result<StoredDoc, StoreError> {
        Ok(self.with(|docs| match docs.get(key) {
            None => StoredDoc::default(),
            Some(doc) => StoredDoc {
                snapshot: doc.snapshot.clone(),
                updates: doc.updates.values().cloned().collect(),
                last_seq: doc.last_seq,
            },
        }))
    }

    async fn append(&self, key: &DocKey, update: Vec<u8>) -> Result<u64, StoreError> {
        Ok(self.with(|docs| {
            let doc = docs.entry(key.clone()).or_default();
            doc.last_seq += 1;
            doc.updates.insert(doc.last_seq, update);
            doc.last_seq
        }))
    }

    async fn compact(&self, key: &DocKey, snapshot: Vec<u8>, through_seq: u64) -> Result<(), StoreError> {
        self.with(|docs| {
            let (last_seq, compacted_through) =
                docs.get(key).map_or((0, 0), |doc| (doc.last_seq, doc.compacted_through));
            check_compaction(through_seq, last_seq, compacted_through)?;
            // Created only now, so a refused compaction leaves no empty document behind.
            let doc = docs.entry(key.clone()).or_default();
            doc.updates = doc.updates.split_off(&(through_seq + 1));
            doc.snapshot = Some(snapshot);
            doc.compacted_through = through_seq;
            Ok(())
        })
    }

    async fn save_version(
        &self,
        key: &DocKey,
        name: String,
        created_at: Timestamp,
        state: Vec<u8>,
    ) -> Result<VersionMeta, StoreError> {
        Ok(self.with(|docs| {
            let doc = docs.entry(key.clone()).or_default();
            let meta = VersionMeta { id: doc.versions.len() as u64 + 1, name, created_at };
            doc.versions.push((meta.clone(), state));
            meta
        }))
    }

    async fn versions(&self, key: &DocKey) -> Result<Vec<VersionMeta>, StoreError> {
        Ok(self.with(|docs| {
            docs.get(key)
                .map(|doc| doc.versions.iter().map(|(meta, _)| meta.clone()).collect())
                .unwrap_or_default()
        }))
    }

    async fn version(&self, key: &DocKey, id: u64) -> Result<Option<(VersionMeta, Vec<u8>)>, StoreError> {
        Ok(self.with(|docs| {
            docs.get(key).and_then(|doc| doc.versions.iter().find(|(meta, _)| meta.id == id).cloned())
        }))
    }

    async fn doc_names(&self, scope: &Scope) -> Result<Vec<DocName>, StoreError> {
        let mut names: Vec<DocName> = self
            .with(|docs| docs.keys().filter(|key| key.scope == *scope).map(|key| key.name.clone()).collect());
        names.sort();
        Ok(names)
    }

    async fn scan_docs(&self, after: Option<&DocKey>, limit: usize) -> Result<Vec<DocKey>, StoreError> {
        let after = after.map(DocKey::storage_key);
        let mut keys: Vec<(Vec<u8>, DocKey)> = self.with(|docs| {
            docs.keys()
                .map(|key| (key.storage_key(), key.clone()))
                .filter(|(storage, _)| after.as_ref().is_none_or(|after| storage > after))
                .collect()
        });
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(keys.into_iter().take(limit).map(|(_, key)| key).collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::testkit;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance() {
        testkit::docs::run_all(|| async { Arc::new(MemoryDocStore::new()) as Arc<dyn DocStore> }).await;
    }
}
