//! [`RedbStore`]: the [`SessionStore`] on a redb file — opening and loading it, reads from the
//! mirror, writes through the writer thread. Its [`continuum_store::DocStore`] side is in
//! [`crate::doc_store`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use continuum_core::{Principal, SessionId, SessionRecord, Timestamp};
use continuum_store::{PurgedSession, SessionStore, SessionTable, StoreError, cas};
use redb::{Database, DatabaseError, ReadableTable, StorageError};

use crate::apply::{PurgeReport, WriteOp};
use crate::config::RedbConfig;
use crate::doc_tables::DocTables;
use crate::error::RedbStoreError;
use crate::schema::{self, EXPIRY, PRINCIPAL_EPOCHS, SESSIONS};
use crate::writer::{Writer, WriterHandle};

/// Sessions and continuity documents in a redb file, with every session mirrored in memory for
/// reads. Documents are not mirrored (they can be large): they are read from the file.
///
/// Cheap to clone; clones share the file, the mirror and the writer thread.
///
/// # Durability
/// A write (session or document) that returned `Ok` was committed with
/// [`redb::Durability::Immediate`]: the file was fsynced before the answer, so the write survives
/// a crash of the process and a power loss. It does not survive the loss of the disk or the
/// machine; that takes a store with replicas (Redis, PostgreSQL) or a backup. A write that
/// returned [`StoreError::Backend`] was not acknowledged; if the failure came during the final
/// sync it may still be found after a restart.
///
/// # Concurrency
/// Session reads (`get`, `list_by_principal`, `count`) never touch the file: they read the
/// mirror, which holds exactly the committed sessions and is updated only after a commit, so a
/// read never sees uncommitted data and never blocks the async runtime. Document reads (`load`,
/// `versions`, `version`, `doc_names`) run a redb read transaction on a blocking thread
/// (`spawn_blocking`), concurrently with the writer. Every write, session or document, goes
/// through one writer thread, batched (see [`RedbConfig`]), and is answered only after its
/// commit; so every read, of either kind, sees every write acknowledged before it started.
///
/// # Shutdown
/// [`RedbStore::close`] finishes the queued writes, waits for the document reads in progress,
/// closes the file and waits for the writer thread without blocking the runtime. After it,
/// session reads keep answering from memory and document reads fail with
/// [`StoreError::Closed`]. Dropping the last clone without closing does the same in
/// the background: the queued writes are still committed, but nothing waits for the file to be
/// released, so a process that reopens the same file should `close` first.
#[derive(Clone)]
pub struct RedbStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    mirror: Arc<SessionTable>,
    writer: WriterHandle,
}

impl RedbStore {
    /// Opens the database at `path`, creating the file (not its directory; `0600`, see
    /// [`continuum_store::private_fs`]) and the tables if they are missing, loads every session into memory and starts the writer thread.
    ///
    /// Blocking: it reads the whole file. Call it before starting the runtime or inside
    /// `tokio::task::spawn_blocking`. Fails with [`RedbStoreError::Open`] (as the source of
    /// [`StoreError::Backend`]) if another process has the file open.
    pub fn open(path: &Path, config: RedbConfig) -> Result<Self, StoreError> {
        config.validate().map_err(StoreError::backend)?;
        let open_error = |source| StoreError::backend(RedbStoreError::Open { path: path.to_owned(), source });
        continuum_store::private_fs::ensure_private_file(path)
            .map_err(|io| open_error(DatabaseError::Storage(StorageError::Io(io))))?;
        let db = Database::create(path).map_err(open_error)?;
        let mirror = Arc::new(load(&db).map_err(StoreError::backend)?);
        tracing::info!(path = %path.display(), sessions = mirror.len(), "opened the redb session store");
        let writer = Writer::spawn(db, Arc::clone(&mirror), &config).map_err(StoreError::backend)?;
        Ok(Self { inner: Arc::new(Inner { path: path.to_owned(), mirror, writer }) })
    }

    /// Finishes the writes queued before this call, commits them, closes the file and waits
    /// until the writer thread has stopped. Later writes (on any clone) fail with
    /// [`StoreError::Closed`]; reads keep answering from memory. Calling it again is harmless.
    pub async fn close(&self) -> Result<(), StoreError> {
        self.inner.writer.close().await
    }

    /// How many write requests wait for the writer thread (a gauge for metrics).
    pub fn queued_writes(&self) -> usize {
        self.inner.writer.queued()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The writer thread's handle, for the document side.
    pub(crate) fn writer(&self) -> &WriterHandle {
        &self.inner.writer
    }
}

impl fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.inner.path)
            .field("sessions", &self.inner.mirror.len())
            .finish_non_exhaustive()
    }
}

/// Creates the tables (document tables included) if they are missing and reads every session
/// into a mirror.
fn load(db: &Database) -> Result<SessionTable, RedbStoreError> {
    let mirror = SessionTable::without_expiry_index();
    let txn = db.begin_write().map_err(load_failed)?;
    {
        let sessions = txn.open_table(SESSIONS).map_err(load_failed)?;
        txn.open_table(EXPIRY).map_err(load_failed)?;
        txn.open_table(PRINCIPAL_EPOCHS).map_err(load_failed)?;
        DocTables::open(&txn).map_err(load_failed)?;
        for entry in sessions.iter().map_err(load_failed)? {
            let (key, value) = entry.map_err(load_failed)?;
            mirror.put(Arc::new(schema::decode(key.value(), value.value())?));
        }
    }
    txn.commit().map_err(load_failed)?;
    Ok(mirror)
}

fn load_failed(error: impl Into<redb::Error>) -> RedbStoreError {
    RedbStoreError::Load(error.into())
}

#[async_trait]
impl SessionStore for RedbStore {
    async fn insert(&self, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        let bytes = schema::encode(&record).map_err(StoreError::backend)?;
        self.inner.writer.write(WriteOp::Insert { record, bytes }).await.map(drop)
    }

    async fn get(&self, sid: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        Ok(self.inner.mirror.get(sid))
    }

    async fn replace(&self, expected_version: u64, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        let bytes = schema::encode(&record).map_err(StoreError::backend)?;
        let op = WriteOp::Replace { expected_version, record, bytes };
        self.inner.writer.write(op).await.map(drop)
    }

    async fn touch(&self, sid: &SessionId, at: Timestamp) -> Result<(), StoreError> {
        // A touch that changes nothing on the committed record is answered here. Any write still
        // queued was not acknowledged yet, so ordering this touch before it is a valid history.
        let committed = self.inner.mirror.get(sid);
        if committed.is_none_or(|record| cas::touched(&record, at).is_none()) {
            return Ok(());
        }
        self.inner.writer.write(WriteOp::Touch { sid: *sid, at }).await.map(drop)
    }

    async fn list_by_principal(&self, principal: &Principal) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        Ok(self.inner.mirror.by_principal(principal))
    }

    async fn purge_expired(&self, now: Timestamp, limit: usize) -> Result<Vec<PurgedSession>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let report = PurgeReport::default();
        self.inner.writer.write(WriteOp::Purge { now, limit, report: Arc::clone(&report) }).await?;
        Ok(std::mem::take(&mut *report.lock().unwrap_or_else(|poisoned| poisoned.into_inner())))
    }

    async fn purge_sessions(
        &self,
        sids: &[SessionId],
        now: Timestamp,
    ) -> Result<Vec<PurgedSession>, StoreError> {
        if sids.is_empty() {
            return Ok(Vec::new());
        }
        let report = PurgeReport::default();
        let op = WriteOp::PurgeIds { now, sids: sids.to_vec(), report: Arc::clone(&report) };
        self.inner.writer.write(op).await?;
        Ok(std::mem::take(&mut *report.lock().unwrap_or_else(|poisoned| poisoned.into_inner())))
    }

    /// A read transaction on a blocking thread (epochs are not mirrored: the sealed-token path
    /// caches them, see `continuum_store::EpochCache`).
    async fn principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        let principal = principal.as_str().to_owned();
        let db = Arc::clone(self.inner.writer.database());
        tokio::task::spawn_blocking(move || {
            db.read(|txn| {
                let failed = |error: redb::Error| RedbStoreError::Read(error);
                let epochs = txn.open_table(PRINCIPAL_EPOCHS).map_err(|e| failed(e.into()))?;
                let epoch = epochs.get(principal.as_str()).map_err(|e| failed(e.into()))?;
                Ok(epoch.map_or(0, |epoch| epoch.value()))
            })
        })
        .await
        .map_err(|error| StoreError::backend(RedbStoreError::ReadTask(error)))?
    }

    /// Through the writer: durable (fsynced) when it returns, like every write.
    async fn bump_principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        let op = WriteOp::BumpEpoch { principal: principal.as_str().to_owned() };
        self.inner.writer.write(op).await
    }

    async fn scan_epochs(
        &self,
        after: Option<&Principal>,
        limit: usize,
    ) -> Result<Vec<(Principal, u64)>, StoreError> {
        let after = after.map(|principal| principal.as_str().to_owned());
        let db = Arc::clone(self.inner.writer.database());
        tokio::task::spawn_blocking(move || {
            db.read(|txn| {
                let failed = |error: redb::Error| RedbStoreError::Read(error);
                let epochs = txn.open_table(PRINCIPAL_EPOCHS).map_err(|e| failed(e.into()))?;
                let range = match after.as_deref() {
                    Some(after) => {
                        epochs.range::<&str>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded))
                    }
                    None => epochs.range::<&str>(..),
                };
                let mut found = Vec::new();
                for entry in range.map_err(|e| failed(e.into()))?.take(limit) {
                    let (name, epoch) = entry.map_err(|e| failed(e.into()))?;
                    // Read back under the rules it was written with; a name even those refuse
                    // (a damaged row) is skipped rather than failing the whole walk.
                    if let Ok(principal) = Principal::parse_any(name.value()) {
                        found.push((principal, epoch.value()));
                    }
                }
                Ok(found)
            })
        })
        .await
        .map_err(|error| StoreError::backend(RedbStoreError::ReadTask(error)))?
    }

    async fn count(&self) -> Result<u64, StoreError> {
        Ok(self.inner.mirror.len() as u64)
    }

    async fn scan(
        &self,
        after: Option<SessionId>,
        limit: usize,
    ) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        Ok(self.inner.mirror.scan(after, limit))
    }

    async fn close(&self) -> Result<(), StoreError> {
        RedbStore::close(self).await
    }
}
