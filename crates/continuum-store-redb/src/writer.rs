//! [`Writer`]: the one thread that writes to redb, with group commit, and [`WriterHandle`], how
//! the async side hands it requests and waits for their answers.
//!
//! The writer blocks for one request, then takes whatever else is already queued (up to
//! `max_batch`), applies them all in one write transaction, commits once with
//! [`Durability::Immediate`] (fsync), publishes the batch to the mirror, and only then answers
//! every request. While it syncs, new requests queue up and form the next batch, so the batch size
//! grows with the load and no request waits for a timer.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use continuum_store::{SessionTable, StoreError};
use redb::{Database, Durability};
use tokio::sync::{mpsc, oneshot, watch};

use crate::apply::{self, Outcome, WriteOp};
use crate::batch::Batch;
use crate::config::{CommitObserver, CommitStats, RedbConfig};
use crate::database::SharedDatabase;
use crate::error::RedbStoreError;
use crate::tables::Tables;

/// The name of the writer thread, as shown by debuggers and `top -H`.
pub(crate) const THREAD_NAME: &str = "continuum-redb-writer";

/// A message to the writer.
enum Command {
    /// Apply `op` and answer on `reply` once the batch holding it has committed.
    Write { op: WriteOp, reply: oneshot::Sender<Outcome> },
    /// Finish the writes queued before this one, refuse later ones, close the file and stop.
    Shutdown,
}

/// The thread that applies every write, and closes the database when it stops.
pub(crate) struct Writer {
    db: Arc<SharedDatabase>,
    /// The committed sessions; the writer is the only one that changes it.
    mirror: Arc<SessionTable>,
    commands: mpsc::Receiver<Command>,
    max_batch: usize,
    on_commit: Option<CommitObserver>,
    /// Set to `true` once the database is closed; dropped unset if the thread panics.
    stopped: watch::Sender<bool>,
}

/// How the async side talks to the [`Writer`].
#[derive(Debug)]
pub(crate) struct WriterHandle {
    /// Bounded by `queue_capacity`: when full, `send` waits (backpressure), nothing is dropped.
    commands: mpsc::Sender<Command>,
    stopped: watch::Receiver<bool>,
    /// The database the writer writes, for readers.
    db: Arc<SharedDatabase>,
    /// Joined by [`WriterHandle::close`]; detached if the store is dropped without closing.
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// A writer over `db` and a handle to it, without a thread yet.
    pub(crate) fn new(
        db: Database,
        mirror: Arc<SessionTable>,
        config: &RedbConfig,
    ) -> (Writer, WriterHandle) {
        let (commands_tx, commands) = mpsc::channel(config.queue_capacity);
        let (stopped, stopped_rx) = watch::channel(false);
        let db = Arc::new(SharedDatabase::new(db));
        let writer = Writer {
            db: Arc::clone(&db),
            mirror,
            commands,
            max_batch: config.max_batch,
            on_commit: config.on_commit.clone(),
            stopped,
        };
        let handle =
            WriterHandle { commands: commands_tx, stopped: stopped_rx, db, thread: Mutex::new(None) };
        (writer, handle)
    }

    /// Starts the writer on its own thread.
    pub(crate) fn spawn(
        db: Database,
        mirror: Arc<SessionTable>,
        config: &RedbConfig,
    ) -> Result<WriterHandle, RedbStoreError> {
        let (writer, handle) = Writer::new(db, mirror, config);
        let thread = std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || writer.run())
            .map_err(RedbStoreError::Spawn)?;
        *handle.thread.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(thread);
        Ok(handle)
    }

    /// The thread's body: batches until every handle is gone or a shutdown is asked for.
    fn run(mut self) {
        let mut stopping = false;
        while !stopping {
            let Some(first) = self.commands.blocking_recv() else { break };
            let mut writes = Vec::new();
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    Command::Write { op, reply } => writes.push((op, reply)),
                    Command::Shutdown => stopping = true,
                }
                if !stopping && writes.len() < self.max_batch {
                    next = self.commands.try_recv().ok();
                }
            }
            if !writes.is_empty() {
                self.commit(writes);
            }
        }
        // Refuse whatever was sent after the shutdown request; senders now fail at once.
        self.commands.close();
        while let Some(command) = self.commands.blocking_recv() {
            if let Command::Write { reply, .. } = command {
                let _ = reply.send(Err(StoreError::Closed));
            }
        }
        // Waits for the reads in progress; later ones find the database closed.
        self.db.close();
        self.stopped.send_replace(true);
        tracing::debug!("redb store closed");
    }

    /// Applies one batch in one transaction and answers every request in it.
    ///
    /// Answers go out only after the commit (or after the abort of a batch that changed nothing),
    /// because a refusal may rest on an earlier write of the same batch: if the commit fails,
    /// every request gets [`RedbStoreError::BatchFailed`], refused ones included, and the mirror
    /// stays as it was.
    pub(crate) fn commit(&self, writes: Vec<(WriteOp, oneshot::Sender<Outcome>)>) {
        let ops = writes.len();
        let started = Instant::now();
        let (requests, replies): (Vec<_>, Vec<_>) = writes.into_iter().unzip();
        let mut batch = Batch::new(&self.mirror);
        // The writer closes the database only after its last batch, so it is open here.
        let Some(result) = self.db.with(|db| transact(db, &mut batch, requests)) else {
            for reply in replies {
                let _ = reply.send(Err(StoreError::Closed));
            }
            return;
        };
        match result {
            Ok((outcomes, committed)) => {
                if committed {
                    let duration = started.elapsed();
                    batch.publish();
                    if let Some(observer) = &self.on_commit {
                        observer(CommitStats { ops, duration });
                    }
                }
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    // The caller may have gone (a cancelled request); its write stands.
                    let _ = reply.send(outcome);
                }
            }
            Err(error) => {
                tracing::error!(ops, error = &error as &dyn std::error::Error, "a redb write batch failed");
                let source = Arc::new(error);
                for reply in replies {
                    let cause = RedbStoreError::BatchFailed { ops, source: Arc::clone(&source) };
                    let _ = reply.send(Err(StoreError::backend(cause)));
                }
            }
        }
    }
}

/// Runs `requests` in one write transaction; returns each one's outcome and whether anything was
/// committed. A batch that changed nothing is aborted, which costs no fsync.
fn transact(
    db: &Database,
    batch: &mut Batch<'_>,
    requests: Vec<WriteOp>,
) -> Result<(Vec<Outcome>, bool), redb::Error> {
    let mut txn = db.begin_write()?;
    txn.set_durability(Durability::Immediate)?;
    let mut outcomes = Vec::with_capacity(requests.len());
    let dirty = {
        let mut tables = Tables::open(&txn)?;
        for op in requests {
            outcomes.push(apply::apply(batch, &mut tables, op)?);
        }
        tables.is_dirty()
    };
    if dirty {
        txn.commit()?;
    } else {
        txn.abort()?;
    }
    Ok((outcomes, dirty))
}

impl WriterHandle {
    /// Queues `op` (waiting while the queue is full) and waits for its answer, which comes once
    /// the batch holding it is durable.
    ///
    /// If the caller is cancelled after the request was queued, the write is still applied.
    pub(crate) async fn write(&self, op: WriteOp) -> Outcome {
        let (reply, answer) = oneshot::channel();
        self.commands.send(Command::Write { op, reply }).await.map_err(|_| StoreError::Closed)?;
        // A dropped reply means the writer thread died before answering.
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// The database the writer writes, shared with readers until the writer stops.
    pub(crate) fn database(&self) -> &Arc<SharedDatabase> {
        &self.db
    }

    /// How many requests wait for the writer.
    pub(crate) fn queued(&self) -> usize {
        self.commands.max_capacity() - self.commands.capacity()
    }

    /// Asks the writer to finish what is queued and stop, and waits until it has closed the file.
    pub(crate) async fn close(&self) -> Result<(), StoreError> {
        // Fails only when the writer is already stopping; then there is just the wait.
        let _ = self.commands.send(Command::Shutdown).await;
        let mut stopped = self.stopped.clone();
        let closed = stopped.wait_for(|stopped| *stopped).await.is_ok();
        let thread = self.thread.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        let db = Arc::clone(&self.db);
        // The thread has finished its work or died; joining it does not wait on I/O. Closing the
        // database again releases the file even if the thread died before closing it.
        let joined = tokio::task::spawn_blocking(move || {
            let joined = thread.is_none_or(|thread| thread.join().is_ok());
            db.close();
            joined
        })
        .await
        .unwrap_or(false);
        if closed && joined { Ok(()) } else { Err(StoreError::backend(RedbStoreError::WriterPanicked)) }
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::schema::{self, tests::record};
    use continuum_core::{SessionRecord, Timestamp};
    use redb::backends::InMemoryBackend;
    use redb::{Builder, StorageBackend};

    /// A disk whose fsync fails while `fail_sync` is set.
    #[derive(Debug)]
    struct FlakyDisk {
        inner: InMemoryBackend,
        fail_sync: Arc<AtomicBool>,
    }

    impl StorageBackend for FlakyDisk {
        fn len(&self) -> Result<u64, io::Error> {
            self.inner.len()
        }
        fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
            self.inner.read(offset, out)
        }
        fn set_len(&self, len: u64) -> Result<(), io::Error> {
            self.inner.set_len(len)
        }
        fn sync_data(&self) -> Result<(), io::Error> {
            if self.fail_sync.load(Ordering::SeqCst) {
                return Err(io::Error::other("injected fsync failure"));
            }
            self.inner.sync_data()
        }
        fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
            self.inner.write(offset, data)
        }
    }

    struct Fixture {
        writer: Writer,
        mirror: Arc<SessionTable>,
        commits: Arc<Mutex<Vec<CommitStats>>>,
        fail_sync: Arc<AtomicBool>,
    }

    fn fixture() -> Fixture {
        let fail_sync = Arc::new(AtomicBool::new(false));
        let disk = FlakyDisk { inner: InMemoryBackend::new(), fail_sync: Arc::clone(&fail_sync) };
        let db = Builder::new().create_with_backend(disk).expect("create");
        let mirror = Arc::new(SessionTable::without_expiry_index());
        let commits = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&commits);
        let config = RedbConfig::default().with_observer(move |stats| seen.lock().expect("lock").push(stats));
        let (writer, _handle) = Writer::new(db, Arc::clone(&mirror), &config);
        Fixture { writer, mirror, commits, fail_sync }
    }

    /// Commits `ops` as one batch and returns each answer.
    fn commit(writer: &Writer, ops: Vec<WriteOp>) -> Vec<Outcome> {
        let (writes, answers): (Vec<_>, Vec<_>) = ops
            .into_iter()
            .map(|op| {
                let (reply, answer) = oneshot::channel();
                ((op, reply), answer)
            })
            .unzip();
        writer.commit(writes);
        answers.into_iter().map(|mut answer| answer.try_recv().expect("answered after the commit")).collect()
    }

    fn insert(record: &SessionRecord) -> WriteOp {
        WriteOp::Insert { record: Arc::new(record.clone()), bytes: schema::encode(record).expect("encode") }
    }

    fn replace(expected_version: u64, record: &SessionRecord) -> WriteOp {
        let bytes = schema::encode(record).expect("encode");
        WriteOp::Replace { expected_version, record: Arc::new(record.clone()), bytes }
    }

    #[test]
    fn a_failed_commit_fails_every_request_of_the_batch_and_leaves_the_mirror() {
        let f = fixture();
        let a = record("alice", 0);
        assert!(commit(&f.writer, vec![insert(&a)])[0].is_ok());
        f.fail_sync.store(true, Ordering::SeqCst);
        let b = record("alice", 0);
        let a2 = SessionRecord { version: 2, ..a.clone() };
        let outcomes = commit(&f.writer, vec![replace(1, &a2), insert(&a), insert(&b)]);
        for outcome in &outcomes {
            let Err(StoreError::Backend(cause)) = outcome else {
                panic!("expected a backend error, got {outcome:?}")
            };
            match cause.downcast_ref::<RedbStoreError>() {
                Some(RedbStoreError::BatchFailed { ops: 3, source }) => {
                    assert!(
                        format!("{source:?}").contains("injected fsync failure"),
                        "cause lost: {source:?}"
                    );
                }
                other => panic!("expected the batch failure, got {other:?}"),
            }
        }
        assert_eq!(f.mirror.get(&a.sid).expect("a").version, 1, "the mirror kept the committed version");
        assert!(f.mirror.get(&b.sid).is_none(), "an uncommitted insert is invisible");
        assert_eq!(f.commits.lock().expect("lock").len(), 1, "only the first batch committed");
    }

    #[test]
    fn a_batch_that_changes_nothing_is_not_committed() {
        let f = fixture();
        let ghost = record("alice", 0);
        let outcomes = commit(
            &f.writer,
            vec![
                WriteOp::Touch { sid: ghost.sid, at: Timestamp::from_millis(5) },
                replace(1, &SessionRecord { version: 2, ..ghost.clone() }),
                WriteOp::Purge {
                    now: Timestamp::from_millis(i64::MAX),
                    limit: 10,
                    report: Default::default(),
                },
            ],
        );
        assert!(matches!(outcomes[..], [Ok(0), Err(StoreError::NotFound), Ok(0)]), "{outcomes:?}");
        assert!(f.commits.lock().expect("lock").is_empty(), "no commit, no fsync");
    }

    #[test]
    fn one_commit_reports_its_size_and_publishes_every_write() {
        let f = fixture();
        let (a, b) = (record("alice", 0), record("bob", 0));
        let touch = WriteOp::Touch { sid: a.sid, at: Timestamp::from_millis(1_000) };
        let outcomes = commit(&f.writer, vec![insert(&a), insert(&b), touch, insert(&a)]);
        assert!(
            matches!(outcomes[..], [Ok(1), Ok(1), Ok(1), Err(StoreError::AlreadyExists)]),
            "{outcomes:?}"
        );
        let commits = f.commits.lock().expect("lock").clone();
        assert_eq!(commits.iter().map(|c| c.ops).collect::<Vec<_>>(), vec![4]);
        assert_eq!(f.mirror.get(&a.sid).expect("a").last_seen_at, Timestamp::from_millis(1_000));
        assert!(f.mirror.get(&b.sid).is_some());
    }

    #[test]
    fn a_failed_commit_fails_document_and_session_writes_alike() {
        let f = fixture();
        let append =
            |update: &[u8]| WriteOp::Append { key: b"user:a\0doc".to_vec(), update: update.to_vec() };
        assert!(matches!(commit(&f.writer, vec![append(b"u1")])[..], [Ok(1)]));
        f.fail_sync.store(true, Ordering::SeqCst);
        let outcomes = commit(&f.writer, vec![append(b"lost"), insert(&record("alice", 0))]);
        for outcome in &outcomes {
            let Err(StoreError::Backend(cause)) = outcome else {
                panic!("expected a backend error, got {outcome:?}")
            };
            assert!(
                matches!(
                    cause.downcast_ref::<RedbStoreError>(),
                    Some(RedbStoreError::BatchFailed { ops: 2, .. })
                ),
                "{cause:?}"
            );
        }
        assert_eq!(f.commits.lock().expect("lock").len(), 1, "only the first batch committed");
    }
}
