//! [`MemoryStore`]: a [`SessionStore`] in process memory, for tests and single-process use.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use continuum_core::{Principal, SessionId, SessionRecord, Timestamp};
use dashmap::DashMap;

use crate::cas;
use crate::store::{PurgedSession, SessionStore, StoreError};
use crate::table::SessionTable;

/// Sessions in memory.
///
/// Durability: none. An acknowledged write survives only as long as the process.
#[derive(Debug)]
pub struct MemoryStore {
    table: SessionTable,
    /// Every principal's epoch; absent is 0.
    epochs: DashMap<Principal, u64>,
    /// Serializes writes so each compare-and-swap sees the result of the previous one.
    writer: Mutex<()>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self { table: SessionTable::with_expiry_index(), epochs: DashMap::new(), writer: Mutex::new(()) }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn write<T>(&self, apply: impl FnOnce(&SessionTable) -> T) -> T {
        let _guard = self.writer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        apply(&self.table)
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn insert(&self, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        self.write(|table| {
            cas::check_insert(table.get(&record.sid).as_deref())?;
            table.put(record);
            Ok(())
        })
    }

    async fn get(&self, sid: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        Ok(self.table.get(sid))
    }

    async fn replace(&self, expected_version: u64, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        self.write(|table| {
            cas::check_replace(table.get(&record.sid).as_deref(), expected_version, &record)?;
            table.put(record);
            Ok(())
        })
    }

    async fn touch(&self, sid: &SessionId, at: Timestamp) -> Result<(), StoreError> {
        self.write(|table| {
            if let Some(next) = table.get(sid).and_then(|current| cas::touched(&current, at)) {
                table.put(Arc::new(next));
            }
            Ok(())
        })
    }

    async fn list_by_principal(&self, principal: &Principal) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        Ok(self.table.by_principal(principal))
    }

    async fn purge_expired(&self, now: Timestamp, limit: usize) -> Result<Vec<PurgedSession>, StoreError> {
        self.write(|table| {
            let due = table.due(now, limit);
            Ok(due
                .iter()
                .filter_map(|sid| table.remove(sid))
                .map(|record| PurgedSession::of(&record))
                .collect())
        })
    }

    async fn purge_sessions(
        &self,
        sids: &[SessionId],
        now: Timestamp,
    ) -> Result<Vec<PurgedSession>, StoreError> {
        self.write(|table| {
            Ok(sids
                .iter()
                .filter(|sid| table.get(sid).is_some_and(|record| record.purge_at() <= now))
                .filter_map(|sid| table.remove(sid))
                .map(|record| PurgedSession::of(&record))
                .collect())
        })
    }

    async fn principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        Ok(self.epochs.get(principal).map_or(0, |epoch| *epoch))
    }

    async fn bump_principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        // The entry's shard lock makes the increment atomic.
        let mut epoch = self.epochs.entry(principal.clone()).or_insert(0);
        *epoch += 1;
        Ok(*epoch)
    }

    async fn count(&self) -> Result<u64, StoreError> {
        Ok(self.table.len() as u64)
    }

    async fn scan(
        &self,
        after: Option<SessionId>,
        limit: usize,
    ) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        Ok(self.table.scan(after, limit))
    }

    async fn scan_epochs(
        &self,
        after: Option<&Principal>,
        limit: usize,
    ) -> Result<Vec<(Principal, u64)>, StoreError> {
        let mut epochs: Vec<(Principal, u64)> = self
            .epochs
            .iter()
            .filter(|entry| after.is_none_or(|after| entry.key().as_str() > after.as_str()))
            .map(|entry| (entry.key().clone(), *entry.value()))
            .collect();
        epochs.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        epochs.truncate(limit);
        Ok(epochs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Sessions, testkit};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance() {
        testkit::run_all(|clock| async move { Sessions::new(Arc::new(MemoryStore::new()), Arc::new(clock)) })
            .await;
    }
}
