//! [`Persister`]: the one task per live document that writes its changes to the store, in the
//! order they were applied, then acks them; and compacts the log past a threshold.
//!
//! Changes are applied and broadcast first and queued here (bounded by
//! [`crate::SyncConfig::persist_capacity`]); the task takes whatever is queued, merges it into
//! one update and appends it with one store call, so a client streaming many updates pays one
//! durable write per batch rather than one per update. Only after `append` returned `Ok` are
//! the batch's acks sent and its waiters released.

use std::sync::{Arc, Weak};

use continuum_core::DocKey;
use continuum_store::{DocStore, StoreError};
use tokio::sync::{mpsc, oneshot, watch};

use crate::ack::{encode_ack, latest_per_peer};
use crate::live_doc::Core;
use crate::metrics::SyncMetrics;
use crate::registry::{AppendHook, RegistryInner};
use crate::state::PeerId;

/// The most queued changes merged into one append.
const MAX_BATCH: usize = 256;

/// One queued change, or a marker that only waits for the changes queued before it.
pub(crate) struct Job {
    /// The update to append; `None` for a marker.
    pub update: Option<Vec<u8>>,
    /// The ack owed once this job is durable: the peer and its cumulative count.
    pub ack: Option<(PeerId, u64)>,
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
    pub core: Arc<Core>,
    pub store: Arc<dyn DocStore>,
    pub jobs: mpsc::Receiver<Job>,
    pub position: LogPosition,
    pub compact_after: usize,
    /// Counts the changes appended.
    pub metrics: Arc<SyncMetrics>,
    /// To forget the document once it is written out.
    pub registry: Weak<RegistryInner>,
    pub generation: u64,
    /// Told of every append, after it returned (to announce it to other nodes).
    pub on_append: Option<AppendHook>,
    /// Dropped when the task ends: whoever waits to reopen the document wakes up.
    pub _finished: watch::Sender<()>,
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
        self.forget();
    }

    fn key(&self) -> &DocKey {
        &self.core.key
    }

    /// Appends the batch's updates: merged into one, or one by one should merging fail.
    async fn append(&mut self, batch: &[Job]) -> Result<(), StoreError> {
        let updates: Vec<&[u8]> = batch.iter().filter_map(|job| job.update.as_deref()).collect();
        let appends = match updates.as_slice() {
            [] => Vec::new(),
            [one] => vec![one.to_vec()],
            many => match yrs::merge_updates_v1(many) {
                Ok(merged) => vec![merged],
                Err(error) => {
                    tracing::warn!(doc = %self.key(), %error, "merging queued updates failed; appending them one by one");
                    many.iter().map(|update| update.to_vec()).collect()
                }
            },
        };
        for update in appends {
            let seq = self.store.append(&self.core.key, update.clone()).await?;
            self.position.last_seq = seq;
            self.position.logged += 1;
            if let Some(hook) = &self.on_append {
                hook(&self.core.key, seq, &update);
            }
        }
        Ok(())
    }

    /// Releases the waiters and sends one cumulative ack per peer.
    fn confirm(&self, batch: Vec<Job>) {
        let acks = latest_per_peer(batch.iter().filter_map(|job| job.ack));
        self.metrics.add_updates_persisted(batch.iter().filter(|job| job.update.is_some()).count() as u64);
        for job in batch {
            if let Some(durable) = job.durable {
                let _ = durable.send(Ok(()));
            }
        }
        if acks.is_empty() {
            return;
        }
        let mut state = self.core.lock();
        for (peer, durable) in acks {
            state.send_to(peer, encode_ack(durable).into());
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
        let stored = match self.store.load(&self.core.key).await {
            Ok(stored) => stored,
            Err(error) => {
                tracing::warn!(doc = %self.key(), error = &error as &dyn std::error::Error, "reading the log to compact it failed");
                return;
            }
        };
        let snapshot = {
            let mut state = self.core.lock();
            if let Err(error) =
                state.merge_durable(stored.snapshot.iter().chain(&stored.updates).map(Vec::as_slice))
            {
                tracing::warn!(doc = %self.key(), %error, "the stored log does not apply; not compacting");
                return;
            }
            state.full_state()
        };
        let through = stored.last_seq;
        match self.store.compact(&self.core.key, snapshot, through).await {
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
        {
            let mut state = self.core.lock();
            state.failed = Some(error.clone());
            state.detach_all();
        }
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
        self.forget();
    }

    /// Removes the document from the registry, unless a newer one took its place.
    fn forget(&self) {
        if let Some(registry) = self.registry.upgrade() {
            registry.forget(&self.core.key, self.generation);
        }
    }
}
