//! [`Persister`]: the one task per live document that writes its changes to the store, in the
//! order they were applied, then acks them; and compacts the log past a threshold.
//!
//! Changes are applied and broadcast first and queued here (bounded by
//! [`crate::SyncConfig::persist_capacity`]); the task takes whatever is queued, merges it into
//! one update and appends it with one store call, so a client streaming many updates pays one
//! durable write per batch rather than one per update. Only after `append` returned `Ok` are
//! the batch's acks sent and its waiters released.

use std::collections::BTreeMap;
use std::sync::Arc;

use continuum_core::{DocKey, SessionId};
use continuum_store::{DocStore, StoreError, StoredDoc};
use tokio::sync::{mpsc, oneshot};

use crate::SyncError;
use crate::ack::latest_per_peer;
use crate::metrics::SyncMetrics;
use crate::state::PeerId;

/// Told of every update a document appended to the store: its key, sequence number and bytes.
/// Called on the document's persistence task after the append returned; it must not block.
pub type AppendHook = Arc<dyn Fn(&DocKey, u64, &[u8]) + Send + Sync>;

/// Whether the update a document appended with log sequence number `seq` has reached the
/// origin (an edge's store answers it: its queue holds every append until the origin has it).
/// Called under the document's lock; it must not block.
pub type UpstreamCheck = Arc<dyn Fn(&DocKey, u64) -> bool + Send + Sync>;

/// Called once when the persistence task ends, after its last append (or its failure): the
/// registry passes it in to forget the document and wake whoever waits to reopen it.
pub(crate) type OnFinished = Box<dyn FnOnce() + Send>;

/// What the persistence task needs of the document it writes out (the live document's core
/// implements it). Each call takes the document's lock briefly and never waits.
pub(crate) trait PersistedDoc: Send + Sync {
    /// The document's key.
    fn key(&self) -> &DocKey;

    /// Sends each peer its cumulative durability ack of type `tag` (see [`crate::ack`]): its
    /// first `n` content-bearing messages are durable.
    fn send_acks(&self, tag: u64, acks: BTreeMap<PeerId, u64>);

    /// Once the store's acks of type `tag` are sent: with an `upstream` check (an edge), the
    /// same peers get the cloud ack ([`crate::ack::MSG_ACK`]) for `acks` as soon as everything
    /// appended through `seq` passes the check — now, or when [`crate::DocRegistry::upstream_advanced`]
    /// says so.
    fn hold_for_upstream(&self, seq: u64, acks: BTreeMap<PeerId, u64>, upstream: &UpstreamCheck);

    /// Merges the log as read back from the store into the document (delivering what was new
    /// to its peers) and returns the document's full state, the snapshot covering that log.
    fn merge_for_snapshot(&self, stored: &StoredDoc) -> Result<Vec<u8>, SyncError>;

    /// Persisting failed with `error`: the document refuses every change from now on and lets
    /// go of its peers.
    fn fail(&self, error: Arc<StoreError>);
}

/// The most queued changes merged into one append.
const MAX_BATCH: usize = 256;

/// One queued change, or a marker that only waits for the changes queued before it.
pub(crate) struct Job {
    /// The update to append; `None` for a marker.
    pub update: Option<Vec<u8>>,
    /// The ack owed once this job is durable: the peer and its cumulative count.
    pub ack: Option<(PeerId, u64)>,
    /// The session whose peer made the change, if any: the batch key, so that a store that
    /// records who wrote what (an edge's queue) gets one append per writer.
    pub writer: Option<SessionId>,
    /// The change came down from the tier above ([`crate::LiveDoc::apply_upstream`]): appended
    /// with [`DocStore::append_from_upstream`], never merged with this node's own changes.
    pub from_upstream: bool,
    /// Told once this job is durable, or that persisting failed.
    pub durable: Option<oneshot::Sender<Result<(), Arc<StoreError>>>>,
}

/// Where the log stands, as loaded.
pub(crate) struct LogPosition {
    /// The sequence number of the last update appended.
    pub last_seq: u64,
    /// How many updates the log holds after the snapshot.
    pub logged: usize,
}

/// The persistence task of one live document. It ends when the document is dropped (after
/// writing everything queued) or when the store fails.
pub(crate) struct Persister {
    pub doc: Arc<dyn PersistedDoc>,
    pub store: Arc<dyn DocStore>,
    pub jobs: mpsc::Receiver<Job>,
    pub position: LogPosition,
    pub compact_after: usize,
    /// The type of the acks sent once an append returned ([`crate::SyncConfig::ack_message`]).
    pub ack_message: u64,
    /// One append per writer's run rather than per batch ([`crate::SyncConfig::append_per_writer`]).
    pub append_per_writer: bool,
    /// Counts the changes appended.
    pub metrics: Arc<SyncMetrics>,
    /// Told of every append, after it returned (to announce it to other nodes).
    pub on_append: Option<AppendHook>,
    /// Whether appends have reached the origin (an edge's store): acks of type
    /// [`Persister::ack_message`] are then followed by cloud acks once they have.
    pub upstream: Option<UpstreamCheck>,
    /// Called when the task ends, once everything queued is written or persisting failed.
    pub on_finished: OnFinished,
}

impl Persister {
    /// Runs until every queued change is written and the document is gone.
    pub async fn run(mut self) {
        self.compact_if_due().await;
        while let Some(first) = self.jobs.recv().await {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match self.jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            match self.append(&batch).await {
                Ok(()) => self.confirm(batch),
                Err(error) => return self.fail(batch, error),
            }
            self.compact_if_due().await;
        }
        (self.on_finished)();
    }

    fn key(&self) -> &DocKey {
        self.doc.key()
    }

    /// Appends the batch's updates, in order: merged into one (or, with
    /// [`Persister::append_per_writer`], one per run of one writer's updates), or one by one
    /// should merging fail.
    async fn append(&mut self, batch: &[Job]) -> Result<(), StoreError> {
        let mut appends = Vec::new();
        for (source, updates) in runs(batch, self.append_per_writer) {
            match updates.as_slice() {
                [] => {}
                [one] => appends.push((source, one.to_vec())),
                many => match yrs::merge_updates_v1(many) {
                    Ok(merged) => appends.push((source, merged)),
                    Err(error) => {
                        tracing::warn!(doc = %self.key(), %error, "merging queued updates failed; appending them one by one");
                        appends.extend(many.iter().map(|update| (source, update.to_vec())));
                    }
                },
            }
        }
        for (source, update) in appends {
            let key = self.doc.key();
            let seq = match source {
                Source::Upstream => self.store.append_from_upstream(key, update.clone()).await?,
                Source::Here(writer) => self.store.append_by(key, update.clone(), writer.as_ref()).await?,
            };
            self.position.last_seq = seq;
            self.position.logged += 1;
            if let Some(hook) = &self.on_append {
                hook(self.doc.key(), seq, &update);
            }
        }
        Ok(())
    }

    /// Releases the waiters and sends one cumulative ack per peer.
    fn confirm(&self, batch: Vec<Job>) {
        let acks = latest_per_peer(batch.iter().filter_map(|job| job.ack));
        let made_here = batch.iter().filter(|job| job.update.is_some() && !job.from_upstream).count();
        self.metrics.add_updates_persisted(made_here as u64);
        for job in batch {
            if let Some(durable) = job.durable {
                let _ = durable.send(Ok(()));
            }
        }
        if !acks.is_empty() {
            self.doc.send_acks(self.ack_message, acks.clone());
            if let Some(upstream) = &self.upstream {
                self.doc.hold_for_upstream(self.position.last_seq, acks, upstream);
            }
        }
    }

    /// Compacts the log into a snapshot once it holds `compact_after` updates. Other nodes may
    /// append to the same log, and their updates may not have reached this document yet, so
    /// the log is read back and merged first (which also delivers anything this node missed to
    /// its peers); the snapshot of the merged document then covers the log through the
    /// `last_seq` read. A failure is logged and retried after as many updates again: the log
    /// still holds everything.
    async fn compact_if_due(&mut self) {
        if self.position.logged == 0 || self.position.logged < self.compact_after {
            return;
        }
        self.position.logged = 0;
        let stored = match self.store.load(self.doc.key()).await {
            Ok(stored) => stored,
            Err(error) => {
                tracing::warn!(doc = %self.key(), error = &error as &dyn std::error::Error, "reading the log to compact it failed");
                return;
            }
        };
        let snapshot = match self.doc.merge_for_snapshot(&stored) {
            Ok(snapshot) => snapshot,
            Err(error) => {
                tracing::warn!(doc = %self.key(), %error, "the stored log does not apply; not compacting");
                return;
            }
        };
        let through = stored.last_seq;
        match self.store.compact(self.doc.key(), snapshot, through).await {
            Ok(()) => tracing::debug!(doc = %self.key(), through, "compacted"),
            Err(error) => {
                tracing::warn!(doc = %self.key(), error = &error as &dyn std::error::Error, "compaction failed")
            }
        }
    }

    /// Persisting failed: what is in memory can no longer be promised durable. The document
    /// refuses further changes, detaches its peers and is forgotten, so the next open reloads
    /// what the store has and reconnecting clients resend the rest in their sync step 2.
    fn fail(mut self, batch: Vec<Job>, error: StoreError) {
        tracing::error!(doc = %self.key(), error = &error as &dyn std::error::Error, "persisting the document failed");
        let error = Arc::new(error);
        self.doc.fail(error.clone());
        self.jobs.close();
        let mut pending = batch;
        while let Ok(job) = self.jobs.try_recv() {
            pending.push(job);
        }
        for job in pending {
            if let Some(durable) = job.durable {
                let _ = durable.send(Err(error.clone()));
            }
        }
        (self.on_finished)();
    }
}

/// Where the updates of one append come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Source {
    /// Made at this node, by the session's peer (`None`: no session, or writers not told
    /// apart).
    Here(Option<SessionId>),
    /// Came down from the tier above.
    Upstream,
}

/// The batch's updates cut into runs of consecutive updates of one source, in order: with
/// `per_writer`, each writer's own; without, every change made here is one source. Updates from
/// upstream are always runs of their own.
fn runs(batch: &[Job], per_writer: bool) -> Vec<(Source, Vec<&[u8]>)> {
    let mut runs: Vec<(Source, Vec<&[u8]>)> = Vec::new();
    for job in batch {
        let Some(update) = job.update.as_deref() else { continue };
        let source = match (job.from_upstream, per_writer) {
            (true, _) => Source::Upstream,
            (false, true) => Source::Here(job.writer),
            (false, false) => Source::Here(None),
        };
        match runs.last_mut() {
            Some((run, updates)) if *run == source => updates.push(update),
            _ => runs.push((source, vec![update])),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    use async_trait::async_trait;
    use continuum_core::{DocName, Scope, Timestamp};
    use continuum_store::{MemoryDocStore, VersionMeta};
    use yrs::{Doc, GetString, Text, Transact};

    use super::*;
    use crate::protocol::decode_update;

    /// A document that records what its persister asks of it.
    struct Recorder {
        key: DocKey,
        acks: Mutex<Vec<BTreeMap<PeerId, u64>>>,
        failed: Mutex<Option<Arc<StoreError>>>,
    }

    impl PersistedDoc for Recorder {
        fn key(&self) -> &DocKey {
            &self.key
        }
        fn send_acks(&self, _: u64, acks: BTreeMap<PeerId, u64>) {
            self.acks.lock().unwrap().push(acks);
        }
        fn hold_for_upstream(&self, _: u64, _: BTreeMap<PeerId, u64>, _: &UpstreamCheck) {}
        fn merge_for_snapshot(&self, _: &StoredDoc) -> Result<Vec<u8>, SyncError> {
            unreachable!("no compaction below the threshold")
        }
        fn fail(&self, error: Arc<StoreError>) {
            *self.failed.lock().unwrap() = Some(error);
        }
    }

    /// A store whose every call fails.
    struct Down;

    #[async_trait]
    impl DocStore for Down {
        async fn load(&self, _: &DocKey) -> Result<StoredDoc, StoreError> {
            Err(StoreError::Closed)
        }
        async fn append(&self, _: &DocKey, _: Vec<u8>) -> Result<u64, StoreError> {
            Err(StoreError::Closed)
        }
        async fn compact(&self, _: &DocKey, _: Vec<u8>, _: u64) -> Result<(), StoreError> {
            Err(StoreError::Closed)
        }
        async fn save_version(
            &self,
            _: &DocKey,
            _: String,
            _: Timestamp,
            _: Vec<u8>,
        ) -> Result<VersionMeta, StoreError> {
            Err(StoreError::Closed)
        }
        async fn versions(&self, _: &DocKey) -> Result<Vec<VersionMeta>, StoreError> {
            Err(StoreError::Closed)
        }
        async fn version(&self, _: &DocKey, _: u64) -> Result<Option<(VersionMeta, Vec<u8>)>, StoreError> {
            Err(StoreError::Closed)
        }
        async fn doc_names(&self, _: &Scope) -> Result<Vec<DocName>, StoreError> {
            Err(StoreError::Closed)
        }
    }

    fn recorder() -> Arc<Recorder> {
        let key =
            DocKey { scope: Scope::parse("user:alice").unwrap(), name: DocName::parse("notes").unwrap() };
        Arc::new(Recorder { key, acks: Mutex::default(), failed: Mutex::default() })
    }

    /// Three updates typing "abc", one character each.
    fn updates() -> Vec<Vec<u8>> {
        let doc = Doc::with_client_id(1);
        let text = doc.get_or_insert_text("t");
        ["a", "b", "c"]
            .into_iter()
            .map(|chunk| {
                let mut txn = doc.transact_mut();
                text.push(&mut txn, chunk);
                txn.encode_update_v1()
            })
            .collect()
    }

    /// Queues the updates (from peers 1, 1 and 2) and a waiting marker, closes the queue, and
    /// runs a persister over `store` to its end.
    async fn persist(
        doc: Arc<Recorder>,
        store: Arc<dyn DocStore>,
    ) -> (oneshot::Receiver<Result<(), Arc<StoreError>>>, bool) {
        let (jobs, queue) = mpsc::channel(8);
        for (update, ack) in updates().into_iter().zip([(1, 1), (1, 2), (2, 1)]) {
            jobs.send(Job {
                update: Some(update),
                ack: Some(ack),
                writer: None,
                from_upstream: false,
                durable: None,
            })
            .await
            .unwrap();
        }
        let (durable, waiter) = oneshot::channel();
        jobs.send(Job {
            update: None,
            ack: None,
            writer: None,
            from_upstream: false,
            durable: Some(durable),
        })
        .await
        .unwrap();
        drop(jobs);
        let finished = Arc::new(AtomicBool::new(false));
        let told = finished.clone();
        let persister = Persister {
            doc,
            store,
            jobs: queue,
            position: LogPosition { last_seq: 0, logged: 0 },
            compact_after: 100,
            ack_message: crate::ack::MSG_ACK,
            append_per_writer: false,
            metrics: Arc::default(),
            on_append: None,
            upstream: None,
            on_finished: Box::new(move || told.store(true, Ordering::SeqCst)),
        };
        persister.run().await;
        (waiter, finished.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn a_batch_is_appended_as_one_update_then_acked_once_per_peer() {
        let doc = recorder();
        let store = Arc::new(MemoryDocStore::new());
        let (waiter, finished) = persist(doc.clone(), store.clone()).await;
        assert!(matches!(waiter.await.unwrap(), Ok(())));
        assert!(finished, "told once the queue closed and everything was written");
        let stored = store.load(&doc.key).await.unwrap();
        assert_eq!(stored.updates.len(), 1, "the queued updates merged into one append");
        let replica = Doc::new();
        replica.transact_mut().apply_update(decode_update(&stored.updates[0]).unwrap()).unwrap();
        assert_eq!(replica.get_or_insert_text("t").get_string(&replica.transact()), "abc");
        assert_eq!(*doc.acks.lock().unwrap(), vec![BTreeMap::from([(1, 2), (2, 1)])]);
        assert!(doc.failed.lock().unwrap().is_none());
    }

    fn job(update: Option<&[u8]>, writer: Option<SessionId>) -> Job {
        Job { update: update.map(<[u8]>::to_vec), ack: None, writer, from_upstream: false, durable: None }
    }

    fn from_upstream(update: &[u8]) -> Job {
        Job { from_upstream: true, ..job(Some(update), None) }
    }

    #[test]
    fn a_batch_is_cut_into_runs_of_one_writer_in_order() {
        let (a, b) = (SessionId::generate(), SessionId::generate());
        let batch = [
            job(Some(b"1"), Some(a)),
            job(None, Some(b)), // a marker neither ends nor starts a run
            job(Some(b"2"), Some(a)),
            job(Some(b"3"), Some(b)),
            job(Some(b"4"), None),
            job(Some(b"5"), Some(a)),
        ];
        let expected: Vec<(Source, Vec<&[u8]>)> = vec![
            (Source::Here(Some(a)), vec![b"1", b"2"]),
            (Source::Here(Some(b)), vec![b"3"]),
            (Source::Here(None), vec![b"4"]),
            (Source::Here(Some(a)), vec![b"5"]),
        ];
        assert_eq!(runs(&batch, true), expected);
    }

    #[test]
    fn updates_from_upstream_are_runs_of_their_own_with_or_without_writers() {
        let a = SessionId::generate();
        let batch = [
            job(Some(b"1"), Some(a)),
            from_upstream(b"2"),
            from_upstream(b"3"),
            job(Some(b"4"), None),
            job(Some(b"5"), Some(a)),
        ];
        let expected: Vec<(Source, Vec<&[u8]>)> = vec![
            (Source::Here(None), vec![b"1"]),
            (Source::Upstream, vec![b"2", b"3"]),
            (Source::Here(None), vec![b"4", b"5"]),
        ];
        assert_eq!(runs(&batch, false), expected, "one source for what was made here");
        let by_writer = runs(&batch, true);
        assert_eq!(by_writer[1], (Source::Upstream, vec![&b"2"[..], b"3"]));
        assert_eq!(by_writer.len(), 4);
    }

    #[tokio::test]
    async fn a_failed_append_fails_the_document_and_its_waiters_and_acks_nothing() {
        let doc = recorder();
        let (waiter, finished) = persist(doc.clone(), Arc::new(Down)).await;
        assert!(matches!(waiter.await.unwrap(), Err(error) if matches!(*error, StoreError::Closed)));
        assert!(finished, "told after the failure");
        assert!(matches!(doc.failed.lock().unwrap().as_deref(), Some(StoreError::Closed)));
        assert!(doc.acks.lock().unwrap().is_empty());
    }
}
