//! [`SharedDatabase`]: the open redb file, shared by the writer thread and the blocking readers
//! until the store closes it.
//!
//! redb allows one write transaction and any number of read transactions at once, from any
//! thread. The writer thread and the readers therefore only share the [`Database`] handle; the
//! lock around it is taken for reading by both, and for writing only by [`SharedDatabase::close`],
//! which thus waits for the transactions in progress and then releases the file.

use std::sync::{PoisonError, RwLock};

use continuum_store::StoreError;
use redb::{Database, ReadTransaction, ReadableDatabase};

use crate::error::RedbStoreError;

/// The database, until it is closed. Every method blocks (on I/O or on [`SharedDatabase::close`]):
/// call them on the writer thread or inside `tokio::task::spawn_blocking`, never on the runtime.
#[derive(Debug)]
pub(crate) struct SharedDatabase {
    db: RwLock<Option<Database>>,
}

impl SharedDatabase {
    /// Shares `db`.
    pub(crate) fn new(db: Database) -> Self {
        Self { db: RwLock::new(Some(db)) }
    }

    /// Runs `work` with the database, or returns `None` once it is closed.
    pub(crate) fn with<T>(&self, work: impl FnOnce(&Database) -> T) -> Option<T> {
        let db = self.db.read().unwrap_or_else(PoisonError::into_inner);
        db.as_ref().map(work)
    }

    /// Runs `read` in a new read transaction, which sees every commit made before it began: as
    /// the writer answers a write only after its commit, every acknowledged write.
    /// [`StoreError::Closed`] once the database is closed.
    pub(crate) fn read<T>(
        &self,
        read: impl FnOnce(&ReadTransaction) -> Result<T, RedbStoreError>,
    ) -> Result<T, StoreError> {
        let answer = self.with(|db| {
            let txn = db.begin_read().map_err(|error| RedbStoreError::Read(error.into()))?;
            read(&txn)
        });
        answer.ok_or(StoreError::Closed)?.map_err(StoreError::backend)
    }

    /// Waits for the transactions in progress, then closes the database, which releases the
    /// file. Later calls of [`SharedDatabase::with`] get `None`. Closing twice is harmless.
    pub(crate) fn close(&self) {
        let db = self.db.write().unwrap_or_else(PoisonError::into_inner).take();
        drop(db);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::Builder;
    use redb::backends::InMemoryBackend;

    #[test]
    fn a_closed_database_refuses_reads_and_work() {
        let db = Builder::new().create_with_backend(InMemoryBackend::new()).expect("create");
        let shared = SharedDatabase::new(db);
        assert_eq!(shared.read(|_| Ok(7)).expect("read while open"), 7);
        shared.close();
        assert!(matches!(shared.read(|_| Ok(7)), Err(StoreError::Closed)));
        assert!(shared.with(|_| ()).is_none());
        shared.close();
    }
}
