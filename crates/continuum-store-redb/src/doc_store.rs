//! [`RedbStore`] as a [`DocStore`]: writes go to the writer thread (numbered there and committed
//! in the same group commits as session writes), reads run a redb read transaction on a blocking
//! thread.
//!
//! # What an acknowledged document write survives
//! As for sessions: `append`, `compact` and `save_version` answer `Ok` only after the transaction
//! holding them was committed with [`redb::Durability::Immediate`], so the write survives a
//! process crash and a power loss, not the loss of the disk.

use async_trait::async_trait;
use continuum_core::{DocKey, DocName, Scope, Timestamp};
use continuum_store::{DocStore, StoreError, StoredDoc, VersionMeta};
use redb::ReadTransaction;

use crate::apply::WriteOp;
use crate::doc_reads;
use crate::error::RedbStoreError;
use crate::store::RedbStore;

/// The largest update, snapshot or version state taken, in bytes: well under redb's limit for one
/// value (3 GiB), which would otherwise fail the whole batch the write is in rather than this
/// write alone.
pub const MAX_DOC_VALUE_BYTES: usize = 1 << 30;

fn check_size(bytes: &[u8]) -> Result<(), StoreError> {
    if bytes.len() > MAX_DOC_VALUE_BYTES {
        return Err(StoreError::InvalidWrite("a document value is larger than 1 GiB"));
    }
    Ok(())
}

impl RedbStore {
    /// Runs `read` in a read transaction on a blocking thread.
    async fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&ReadTransaction) -> Result<T, RedbStoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = std::sync::Arc::clone(self.writer().database());
        tokio::task::spawn_blocking(move || db.read(read))
            .await
            .map_err(|error| StoreError::backend(RedbStoreError::ReadTask(error)))?
    }
}

#[async_trait]
impl DocStore for RedbStore {
    async fn load(&self, key: &DocKey) -> Result<StoredDoc, StoreError> {
        let key = key.storage_key();
        self.read(move |txn| doc_reads::load(txn, &key)).await
    }

    async fn append(&self, key: &DocKey, update: Vec<u8>) -> Result<u64, StoreError> {
        check_size(&update)?;
        self.writer().write(WriteOp::Append { key: key.storage_key(), update }).await
    }

    async fn compact(&self, key: &DocKey, snapshot: Vec<u8>, through_seq: u64) -> Result<(), StoreError> {
        check_size(&snapshot)?;
        let op = WriteOp::Compact { key: key.storage_key(), snapshot, through_seq };
        self.writer().write(op).await.map(drop)
    }

    async fn save_version(
        &self,
        key: &DocKey,
        name: String,
        created_at: Timestamp,
        state: Vec<u8>,
    ) -> Result<VersionMeta, StoreError> {
        check_size(&state)?;
        check_size(name.as_bytes())?;
        let op = WriteOp::SaveVersion { key: key.storage_key(), name: name.clone(), created_at, state };
        let id = self.writer().write(op).await?;
        Ok(VersionMeta { id, name, created_at })
    }

    async fn versions(&self, key: &DocKey) -> Result<Vec<VersionMeta>, StoreError> {
        let key = key.storage_key();
        self.read(move |txn| doc_reads::versions(txn, &key)).await
    }

    async fn version(&self, key: &DocKey, id: u64) -> Result<Option<(VersionMeta, Vec<u8>)>, StoreError> {
        let key = key.storage_key();
        self.read(move |txn| doc_reads::version(txn, &key, id)).await
    }

    async fn doc_names(&self, scope: &Scope) -> Result<Vec<DocName>, StoreError> {
        let prefix = DocKey::scope_prefix(scope);
        self.read(move |txn| doc_reads::doc_names(txn, &prefix)).await
    }

    async fn scan_docs(&self, after: Option<&DocKey>, limit: usize) -> Result<Vec<DocKey>, StoreError> {
        let after = after.map(DocKey::storage_key);
        self.read(move |txn| doc_reads::doc_keys(txn, after.as_deref(), limit)).await
    }
}
