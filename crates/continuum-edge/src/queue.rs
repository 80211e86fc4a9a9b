//! [`EdgeQueue`]: the edge's durable queue of document updates on its own disk — redb, one
//! writer thread, group commit, each commit fsynced — holding every update its devices sent
//! until the origin has applied (or refused) it.
//!
//! # Format
//! `<data>/edge-queue.redb`, table `entries: u64 seq → bytes`, `seq` increasing from 1 for the
//! edge's whole life; a value is `[u8 n][n bytes: the writer's sid, or none][u16 le n][scope]
//! [u16 le n][name][the Yjs v1 update]`. Table `meta: "acked" → u64`: the highest seq the origin
//! has answered for; entries up to it are deleted in the same transaction.
//!
//! When each entry was pushed is kept in memory only ([`QueueAges`]), for the age of the oldest
//! waiting entry on `/metrics`.
//!
//! Durability: when [`EdgeQueue::push`] returns a seq, the entry survives a crash of the edge
//! process and a power loss of its machine (the commit is fsynced); it is lost with the edge's
//! disk.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use continuum_core::{Clock as _, DocKey, SessionId, SystemClock};
use redb::{
    Database, ReadableDatabase as _, ReadableTable as _, ReadableTableMetadata as _, TableDefinition,
};
use tokio::sync::{Notify, mpsc, oneshot};

use crate::queue_age::QueueAges;

const ENTRIES: TableDefinition<u64, &[u8]> = TableDefinition::new("entries");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const ACKED: &str = "acked";
/// The queue's file in the data directory.
pub const FILE: &str = "edge-queue.redb";
/// Pushes committed together at most.
const MAX_GROUP: usize = 256;
/// Pushes waiting for the writer; past it `push` waits for room.
const CAPACITY: usize = 4096;

/// Why the queue failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// redb failed (I/O, corruption).
    #[error("the edge queue {path} failed")]
    Redb {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: redb::Error,
    },
    /// A stored entry does not decode.
    #[error("queue entry {0} is damaged")]
    Damaged(u64),
    /// The writer thread is gone (the queue is closing).
    #[error("the edge queue is closed")]
    Closed,
}

/// One queued update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedUpdate {
    /// Its place in the edge's queue, from 1.
    pub seq: u64,
    /// The session whose device wrote it (`None`: the edge itself).
    pub sid: Option<SessionId>,
    /// The document.
    pub key: DocKey,
    /// The Yjs v1 update.
    pub update: Vec<u8>,
}

struct Push {
    sid: Option<SessionId>,
    key: DocKey,
    update: Vec<u8>,
    done: oneshot::Sender<Result<u64, QueueError>>,
}

/// The queue. Cheap to clone.
#[derive(Clone, Debug)]
pub struct EdgeQueue {
    db: Arc<Database>,
    path: Arc<Path>,
    pushes: mpsc::Sender<Push>,
    /// Woken after each commit (the replayer waits on it).
    pushed: Arc<Notify>,
    /// When the waiting entries were pushed. Never held across `.await`.
    ages: Arc<Mutex<QueueAges>>,
}

fn lock(ages: &Mutex<QueueAges>) -> MutexGuard<'_, QueueAges> {
    ages.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The origin's mark and the last seq ever pushed, as stored.
fn stored_marks(db: &Database, path: &Path) -> Result<(u64, u64), QueueError> {
    let error = redb_error(path);
    let txn = db.begin_read().map_err(|e| error(e.into()))?;
    let entries = txn.open_table(ENTRIES).map_err(|e| error(e.into()))?;
    let last = entries.last().map_err(|e| error(e.into()))?.map(|(seq, _)| seq.value());
    let acked = txn.open_table(META).map_err(|e| error(e.into()))?.get(ACKED).map_err(|e| error(e.into()))?;
    let acked = acked.map_or(0, |value| value.value());
    Ok((acked, last.unwrap_or(0).max(acked)))
}

fn redb_error(path: &Path) -> impl Fn(redb::Error) -> QueueError + '_ {
    move |source| QueueError::Redb { path: path.to_owned(), source }
}

fn encode(sid: Option<&SessionId>, key: &DocKey, update: &[u8]) -> Vec<u8> {
    let (scope, name) = (key.scope.to_string(), key.name.as_str().to_owned());
    let sid = sid.map(ToString::to_string).unwrap_or_default();
    let mut bytes = Vec::with_capacity(1 + sid.len() + 4 + scope.len() + name.len() + update.len());
    bytes.push(sid.len() as u8);
    bytes.extend_from_slice(sid.as_bytes());
    for part in [scope.as_bytes(), name.as_bytes()] {
        bytes.extend_from_slice(&(part.len() as u16).to_le_bytes());
        bytes.extend_from_slice(part);
    }
    bytes.extend_from_slice(update);
    bytes
}

fn decode(seq: u64, bytes: &[u8]) -> Result<QueuedUpdate, QueueError> {
    let damaged = || QueueError::Damaged(seq);
    let (&sid_len, rest) = bytes.split_first().ok_or_else(damaged)?;
    let (sid, rest) = rest.split_at_checked(sid_len as usize).ok_or_else(damaged)?;
    let sid = match sid {
        [] => None,
        text => {
            Some(SessionId::parse(std::str::from_utf8(text).map_err(|_| damaged())?).map_err(|_| damaged())?)
        }
    };
    let mut rest = rest;
    let mut parts = Vec::with_capacity(2);
    for _ in 0..2 {
        let (len, tail) = rest.split_at_checked(2).ok_or_else(damaged)?;
        let len = u16::from_le_bytes([len[0], len[1]]) as usize;
        let (part, tail) = tail.split_at_checked(len).ok_or_else(damaged)?;
        parts.push(std::str::from_utf8(part).map_err(|_| damaged())?);
        rest = tail;
    }
    let key = DocKey::parse(parts[0], parts[1]).map_err(|_| damaged())?;
    Ok(QueuedUpdate { seq, sid, key, update: rest.to_vec() })
}

impl EdgeQueue {
    /// Opens (or creates) the queue in `data` and starts its writer thread.
    pub fn open(data: &Path) -> Result<Self, QueueError> {
        let path: Arc<Path> = data.join(FILE).into();
        let error = redb_error(&path);
        continuum_store::private_fs::ensure_private_file(&path).map_err(|io| error(redb::Error::Io(io)))?;
        let db = Database::create(&path).map_err(|e| error(e.into()))?;
        let txn = db.begin_write().map_err(|e| error(e.into()))?;
        txn.open_table(ENTRIES).map_err(|e| error(e.into()))?;
        txn.open_table(META).map_err(|e| error(e.into()))?;
        txn.commit().map_err(|e| error(e.into()))?;
        let (acked, last) = stored_marks(&db, &path)?;
        let ages = Arc::new(Mutex::new(QueueAges::new(acked, last, SystemClock.now())));
        let db = Arc::new(db);
        let (pushes, receiver) = mpsc::channel(CAPACITY);
        let pushed = Arc::new(Notify::new());
        let writer = Writer {
            db: Arc::clone(&db),
            path: Arc::clone(&path),
            pushed: Arc::clone(&pushed),
            ages: Arc::clone(&ages),
        };
        std::thread::Builder::new()
            .name("edge-queue".into())
            .spawn(move || writer.run(receiver))
            .map_err(|io| error(redb::Error::Io(io)))?;
        drop(error);
        Ok(Self { db, path, pushes, pushed, ages })
    }

    /// Appends an update and returns its seq once the commit holding it is fsynced.
    pub async fn push(
        &self,
        sid: Option<SessionId>,
        key: DocKey,
        update: Vec<u8>,
    ) -> Result<u64, QueueError> {
        let (done, waiter) = oneshot::channel();
        self.pushes.send(Push { sid, key, update, done }).await.map_err(|_| QueueError::Closed)?;
        waiter.await.map_err(|_| QueueError::Closed)?
    }

    /// Resolves after the next commit.
    pub fn pushed(&self) -> &Notify {
        &self.pushed
    }

    /// The highest seq the origin answered for, and up to `limit` entries after it, in order.
    pub async fn pending(&self, limit: usize) -> Result<(u64, Vec<QueuedUpdate>), QueueError> {
        let (db, path) = (Arc::clone(&self.db), Arc::clone(&self.path));
        let read = move || -> Result<(u64, Vec<QueuedUpdate>), QueueError> {
            let error = redb_error(&path);
            let txn = db.begin_read().map_err(|e| error(e.into()))?;
            let acked =
                txn.open_table(META).map_err(|e| error(e.into()))?.get(ACKED).map_err(|e| error(e.into()))?;
            let acked = acked.map_or(0, |value| value.value());
            let entries = txn.open_table(ENTRIES).map_err(|e| error(e.into()))?;
            let mut pending = Vec::new();
            for entry in entries.range(acked + 1..).map_err(|e| error(e.into()))?.take(limit) {
                let (seq, bytes) = entry.map_err(|e| error(e.into()))?;
                pending.push(decode(seq.value(), bytes.value())?);
            }
            Ok((acked, pending))
        };
        tokio::task::spawn_blocking(read).await.map_err(|_| QueueError::Closed)?
    }

    /// The origin answered for every entry up to `through`: they are deleted and the mark kept,
    /// in one fsynced transaction. Never moves the mark back.
    pub async fn acknowledge(&self, through: u64) -> Result<(), QueueError> {
        let (db, path) = (Arc::clone(&self.db), Arc::clone(&self.path));
        let write = move || -> Result<(), QueueError> {
            let error = redb_error(&path);
            let txn = db.begin_write().map_err(|e| error(e.into()))?;
            {
                let mut meta = txn.open_table(META).map_err(|e| error(e.into()))?;
                let acked = meta.get(ACKED).map_err(|e| error(e.into()))?.map_or(0, |value| value.value());
                if through > acked {
                    meta.insert(ACKED, through).map_err(|e| error(e.into()))?;
                    let mut entries = txn.open_table(ENTRIES).map_err(|e| error(e.into()))?;
                    entries.retain_in(..=through, |_, _| false).map_err(|e| error(e.into()))?;
                }
            }
            txn.commit().map_err(|e| error(e.into()))
        };
        tokio::task::spawn_blocking(write).await.map_err(|_| QueueError::Closed)??;
        lock(&self.ages).acknowledged(through);
        Ok(())
    }

    /// How long the oldest entry the origin has not answered for has waited (zero if none):
    /// from its push, or for entries queued before this process started, from the start; at
    /// most [`crate::queue_age::GRAIN`] too old.
    pub fn oldest_age(&self) -> Duration {
        lock(&self.ages).oldest_age(SystemClock.now())
    }

    /// How many entries wait for the origin, and the seq of the last one ever pushed.
    pub async fn stats(&self) -> Result<(u64, u64), QueueError> {
        let (db, path) = (Arc::clone(&self.db), Arc::clone(&self.path));
        let read = move || -> Result<(u64, u64), QueueError> {
            let error = redb_error(&path);
            let txn = db.begin_read().map_err(|e| error(e.into()))?;
            let waiting =
                txn.open_table(ENTRIES).map_err(|e| error(e.into()))?.len().map_err(|e| error(e.into()))?;
            Ok((waiting, stored_marks(&db, &path)?.1))
        };
        tokio::task::spawn_blocking(read).await.map_err(|_| QueueError::Closed)?
    }
}

/// The writer thread: takes what is waiting, commits it as one fsynced transaction, answers.
struct Writer {
    db: Arc<Database>,
    path: Arc<Path>,
    pushed: Arc<Notify>,
    ages: Arc<Mutex<QueueAges>>,
}

impl Writer {
    fn run(self, mut pushes: mpsc::Receiver<Push>) {
        while let Some(first) = pushes.blocking_recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match pushes.try_recv() {
                    Ok(push) => group.push(push),
                    Err(_) => break,
                }
            }
            match self.commit(&group) {
                Ok(first_seq) => {
                    let last_seq = first_seq + group.len() as u64 - 1;
                    lock(&self.ages).pushed(first_seq, last_seq, SystemClock.now());
                    for (offset, push) in group.into_iter().enumerate() {
                        let _ = push.done.send(Ok(first_seq + offset as u64));
                    }
                    self.pushed.notify_waiters();
                }
                Err(error) => {
                    tracing::error!(error = &error as &dyn std::error::Error, "the edge queue cannot commit");
                    let message = error.to_string();
                    for push in group {
                        let _ = push.done.send(Err(QueueError::Redb {
                            path: self.path.to_path_buf(),
                            source: redb::Error::Io(std::io::Error::other(message.clone())),
                        }));
                    }
                }
            }
        }
    }

    /// Commits `group` after the last seq ever used; returns the first seq it took.
    fn commit(&self, group: &[Push]) -> Result<u64, QueueError> {
        let error = redb_error(&self.path);
        let txn = self.db.begin_write().map_err(|e| error(e.into()))?;
        let first = {
            let meta = txn.open_table(META).map_err(|e| error(e.into()))?;
            let acked = meta.get(ACKED).map_err(|e| error(e.into()))?.map_or(0, |value| value.value());
            let mut entries = txn.open_table(ENTRIES).map_err(|e| error(e.into()))?;
            let last = entries.last().map_err(|e| error(e.into()))?.map(|(seq, _)| seq.value());
            let first = last.unwrap_or(0).max(acked) + 1;
            for (offset, push) in group.iter().enumerate() {
                let value = encode(push.sid.as_ref(), &push.key, &push.update);
                entries.insert(first + offset as u64, value.as_slice()).map_err(|e| error(e.into()))?;
            }
            first
        };
        txn.commit().map_err(|e| error(e.into()))?;
        Ok(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> DocKey {
        DocKey::parse("user:alice", name).unwrap()
    }

    #[test]
    fn entries_round_trip_and_damage_is_caught() {
        let sid = SessionId::generate();
        let bytes = encode(Some(&sid), &key("draft"), b"\x01\x02");
        assert_eq!(
            decode(7, &bytes).unwrap(),
            QueuedUpdate { seq: 7, sid: Some(sid), key: key("draft"), update: vec![1, 2] }
        );
        let bytes = encode(None, &key("x"), b"");
        assert_eq!(decode(1, &bytes).unwrap().sid, None);
        for cut in 0..6 {
            assert!(matches!(decode(3, &bytes[..cut]), Err(QueueError::Damaged(3))), "cut at {cut}");
        }
    }

    #[tokio::test]
    async fn pushes_get_increasing_seqs_survive_a_reopen_and_acknowledged_ones_go() {
        let dir = tempfile::tempdir().unwrap();
        let sid = SessionId::generate();
        {
            let queue = EdgeQueue::open(dir.path()).unwrap();
            let pushes: Vec<_> = (0..10u8).map(|n| queue.push(Some(sid), key("draft"), vec![n])).collect();
            let mut seqs = Vec::new();
            for push in pushes {
                seqs.push(push.await.unwrap());
            }
            assert_eq!(seqs, (1..=10).collect::<Vec<_>>());
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            assert!(queue.oldest_age() >= std::time::Duration::from_millis(30), "{:?}", queue.oldest_age());
            queue.acknowledge(4).await.unwrap();
            queue.acknowledge(2).await.unwrap(); // never back
            assert_eq!(queue.stats().await.unwrap(), (6, 10));
        }
        // The writer thread lets go of the file once it sees the queue dropped.
        let queue = loop {
            match EdgeQueue::open(dir.path()) {
                Ok(queue) => break queue,
                Err(QueueError::Redb { source: redb::Error::DatabaseAlreadyOpen, .. }) => {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await
                }
                Err(error) => panic!("{error}"),
            }
        };
        let (acked, pending) = queue.pending(3).await.unwrap();
        assert_eq!(acked, 4);
        assert_eq!(
            pending.iter().map(|entry| (entry.seq, entry.update[0])).collect::<Vec<_>>(),
            [(5, 4), (6, 5), (7, 6)]
        );
        assert!(queue.oldest_age() < std::time::Duration::from_secs(5), "dated from the reopening");
        queue.acknowledge(10).await.unwrap();
        assert_eq!(queue.oldest_age(), std::time::Duration::ZERO, "nothing waits");
        assert_eq!(queue.push(None, key("draft"), vec![0]).await.unwrap(), 11, "seqs never restart");
    }
}
