//! [`DocRegistry`]: the live documents of a server, one per key, loaded on first open and
//! forgotten when nobody holds them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

use continuum_core::{Clock, DocKey};
use continuum_store::DocStore;
use tokio::sync::{mpsc, watch};
use tokio_util::task::TaskTracker;

use crate::awareness_ticker::AwarenessTicker;
use crate::doc_core::Core;
use crate::listing::LiveDocListing;
use crate::live_doc::{LiveDoc, PeersHook};
use crate::load::load;
use crate::metrics::{SyncMetrics, SyncSnapshot};
use crate::persist::{AppendHook, OnFinished, Persister, UpstreamCheck};
use crate::state::DocState;
use crate::{SyncConfig, SyncError};

/// At most this many durable updates from elsewhere are held for a document being loaded; past
/// it, the document reads the store again once loaded instead.
const MAX_MISSED: usize = 256;

/// Durable updates from elsewhere that arrived while a document was loading (its load may have
/// read the store before they were appended).
#[derive(Default)]
struct Missed {
    updates: Vec<Vec<u8>>,
    /// Too many, or one arrived without its bytes: read the store again.
    reload: bool,
}

impl Missed {
    fn push(&mut self, update: Option<&[u8]>) {
        match update {
            Some(update) if !self.reload && self.updates.len() < MAX_MISSED => {
                self.updates.push(update.to_vec())
            }
            _ => {
                self.reload = true;
                self.updates.clear();
            }
        }
    }
}

/// Where a key stands.
enum Slot {
    /// One caller is loading it; the others wait until `loaded` closes, then look again.
    Loading { generation: u64, loaded: watch::Receiver<()>, missed: Missed },
    /// Loaded. If `doc` is gone, its persistence task is still writing out; `persisted` closes
    /// when it is done and the slot is removed.
    Live { generation: u64, doc: Weak<LiveDoc>, persisted: watch::Receiver<()> },
}

impl Slot {
    fn generation(&self) -> u64 {
        match self {
            Slot::Loading { generation, .. } | Slot::Live { generation, .. } => *generation,
        }
    }
}

/// What every clone of a [`DocRegistry`] shares.
struct RegistryInner {
    store: Arc<dyn DocStore>,
    clock: Arc<dyn Clock>,
    config: Arc<SyncConfig>,
    docs: Mutex<HashMap<DocKey, Slot>>,
    /// Tells one incarnation of a key from the next.
    generations: AtomicU64,
    /// The persistence and awareness tasks, one each per live document.
    tasks: TaskTracker,
    metrics: Arc<SyncMetrics>,
    /// Set once, before documents are opened.
    on_append: OnceLock<AppendHook>,
    upstream: OnceLock<UpstreamCheck>,
    on_peers: OnceLock<PeersHook>,
}

impl RegistryInner {
    /// Never held across `.await`.
    fn docs(&self) -> MutexGuard<'_, HashMap<DocKey, Slot>> {
        self.docs.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Removes `key` if it is still the incarnation `generation`.
    fn forget(&self, key: &DocKey, generation: u64) {
        let mut docs = self.docs();
        if docs.get(key).is_some_and(|slot| slot.generation() == generation) {
            docs.remove(key);
        }
    }
}

/// The live continuity documents of a server. Cheap to clone; clones share the documents.
///
/// A document is loaded completely from the store on first [`DocRegistry::open`] and shared by
/// every caller after. When its last [`crate::Peer`] and last `Arc<LiveDoc>` are dropped, its
/// queued changes are written to the store and it leaves memory; an open in the meantime waits
/// for that write-out and loads it again, so no open ever sees a document without changes that
/// were applied before.
#[derive(Clone)]
pub struct DocRegistry {
    inner: Arc<RegistryInner>,
}

/// What an open found under the lock.
enum Next {
    Wait(watch::Receiver<()>),
    Load(LoadGuard),
}

/// Held while loading: if the load fails or its caller goes away, the slot is removed and the
/// waiters (woken as `_loaded` drops) try again themselves.
struct LoadGuard {
    inner: Arc<RegistryInner>,
    key: DocKey,
    generation: u64,
    _loaded: watch::Sender<()>,
}

impl Drop for LoadGuard {
    fn drop(&mut self) {
        let mut docs = self.inner.docs();
        if matches!(docs.get(&self.key), Some(Slot::Loading { generation, .. }) if *generation == self.generation)
        {
            docs.remove(&self.key);
        }
    }
}

impl DocRegistry {
    /// A registry persisting through `store`, taking version times from `clock`.
    pub fn new(store: Arc<dyn DocStore>, clock: Arc<dyn Clock>, config: SyncConfig) -> Self {
        let inner = RegistryInner {
            store,
            clock,
            config: Arc::new(config),
            docs: Mutex::new(HashMap::new()),
            generations: AtomicU64::new(0),
            tasks: TaskTracker::new(),
            metrics: Arc::default(),
            on_append: OnceLock::new(),
            upstream: OnceLock::new(),
            on_peers: OnceLock::new(),
        };
        Self { inner: Arc::new(inner) }
    }

    /// The configuration every document is served with.
    pub fn config(&self) -> &SyncConfig {
        &self.inner.config
    }

    /// The live document for `key`, loaded completely from the store before this returns.
    /// Concurrent opens of the same key share one load and get the same `LiveDoc`.
    ///
    /// Errors: [`SyncError::Store`] if loading failed, [`SyncError::Corrupt`] if what the store
    /// holds cannot be applied. A failed load is not cached: the next open tries again.
    pub async fn open(&self, key: &DocKey) -> Result<Arc<LiveDoc>, SyncError> {
        loop {
            match self.find_or_claim(key) {
                Ok(doc) => return Ok(doc),
                Err(Next::Wait(mut done)) => {
                    // Returns once the loader or the write-out finishes (its sender drops).
                    let _ = done.changed().await;
                }
                Err(Next::Load(guard)) => return self.load(guard).await,
            }
        }
    }

    /// Under the lock: the live document, or what to wait for, or the claim to load it.
    fn find_or_claim(&self, key: &DocKey) -> Result<Arc<LiveDoc>, Next> {
        let mut docs = self.inner.docs();
        match docs.get(key) {
            Some(Slot::Live { doc, persisted, .. }) => match doc.upgrade() {
                Some(doc) => Ok(doc),
                None => Err(Next::Wait(persisted.clone())),
            },
            Some(Slot::Loading { loaded, .. }) => Err(Next::Wait(loaded.clone())),
            None => {
                let generation = self.inner.generations.fetch_add(1, Ordering::Relaxed);
                let (sender, loaded) = watch::channel(());
                docs.insert(key.clone(), Slot::Loading { generation, loaded, missed: Missed::default() });
                let guard =
                    LoadGuard { inner: self.inner.clone(), key: key.clone(), generation, _loaded: sender };
                Err(Next::Load(guard))
            }
        }
    }

    /// Loads the claimed key, starts its persistence task and publishes it.
    async fn load(&self, guard: LoadGuard) -> Result<Arc<LiveDoc>, SyncError> {
        let inner = &self.inner;
        let loaded = load(inner.store.as_ref(), &guard.key).await?;
        // Capacity 1: one pending wake-up covers every change until the flush.
        let (wake, woken) = mpsc::channel(1);
        let state =
            DocState::new(loaded.doc, loaded.state_bytes, inner.clock.clone(), inner.metrics.clone(), wake);
        let core = Arc::new(Core::new(guard.key.clone(), state));
        let ticker =
            AwarenessTicker { core: Arc::downgrade(&core), wake: woken, tick: inner.config.awareness_tick };
        inner.tasks.spawn(ticker.run());
        let (jobs, queue) = mpsc::channel(inner.config.persist_capacity.max(1));
        let (finished, persisted) = watch::channel(());
        let doc = Arc::new(LiveDoc {
            core: core.clone(),
            config: inner.config.clone(),
            store: inner.store.clone(),
            clock: inner.clock.clone(),
            jobs,
            on_peers: inner.on_peers.get().cloned(),
        });
        let persister = Persister {
            doc: core,
            store: inner.store.clone(),
            jobs: queue,
            position: loaded.position,
            compact_after: inner.config.compact_after,
            ack_message: inner.config.ack_message,
            append_per_writer: inner.config.append_per_writer,
            metrics: inner.metrics.clone(),
            on_append: inner.on_append.get().cloned(),
            upstream: inner.upstream.get().cloned(),
            on_finished: self.on_finished(&guard.key, guard.generation, finished),
        };
        inner.tasks.spawn(persister.run());
        let live = Slot::Live { generation: guard.generation, doc: Arc::downgrade(&doc), persisted };
        let missed = match inner.docs().insert(guard.key.clone(), live) {
            Some(Slot::Loading { missed, .. }) => missed,
            _ => Missed::default(),
        };
        let caught_up = if missed.reload {
            doc.catch_up().await.map(drop)
        } else {
            doc.merge_durable(missed.updates.iter().map(Vec::as_slice)).map(drop)
        };
        if let Err(error) = caught_up {
            // The document is served as loaded; the next compaction or catch-up merges the rest.
            tracing::warn!(doc = %doc.key(), %error, "merging updates announced during the load failed");
        }
        Ok(doc)
    }

    /// What the persistence task of incarnation `generation` of `key` calls when it ends: the
    /// document leaves the registry, unless a newer incarnation took its place (the registry
    /// is held weakly, so a task outliving it forgets nothing), and dropping `finished` wakes
    /// whoever waits to reopen it.
    fn on_finished(&self, key: &DocKey, generation: u64, finished: watch::Sender<()>) -> OnFinished {
        let registry = Arc::downgrade(&self.inner);
        let key = key.clone();
        Box::new(move || {
            if let Some(registry) = registry.upgrade() {
                registry.forget(&key, generation);
            }
            drop(finished);
        })
    }

    /// Registers the hook told of every update appended from now on (`continuum-cluster`'s
    /// relay announces them to the other nodes). Call it before opening documents: documents
    /// already live keep running without it. Only the first call takes effect.
    pub fn on_append(&self, hook: AppendHook) {
        let _ = self.inner.on_append.set(hook);
    }

    /// Registers the check of whether an append has reached the origin (an edge's store), so
    /// that acks sent as `edge` are followed by cloud acks. Call it before opening documents;
    /// only the first call takes effect.
    pub fn on_upstream(&self, check: UpstreamCheck) {
        let _ = self.inner.upstream.set(check);
    }

    /// Registers the hook told whenever a peer attaches to or detaches from a document (an
    /// edge keeps one connection to its origin per document with peers). Call it before
    /// opening documents: documents already live keep running without it. Only the first call
    /// takes effect.
    pub fn on_peers(&self, hook: PeersHook) {
        let _ = self.inner.on_peers.set(hook);
    }

    /// More of `key`'s appends have reached the origin: its held acks that now pass the check
    /// are sent as cloud acks. Nothing happens if the document is not live.
    pub fn upstream_advanced(&self, key: &DocKey) {
        let Some(check) = self.inner.upstream.get() else { return };
        let doc = match self.inner.docs().get(key) {
            Some(Slot::Live { doc, .. }) => doc.upgrade(),
            _ => None,
        };
        if let Some(doc) = doc {
            doc.core.release_upstream(check);
        }
    }

    /// Another node appended `update` to the log of `key` (`None`: an update too large for the
    /// bus, to read from the store). If the document is live here, it is merged and this node's
    /// peers receive it; if it is loading, it is merged once loaded; otherwise nothing is done,
    /// since the next open reads the store.
    pub async fn apply_durable(&self, key: &DocKey, update: Option<&[u8]>) -> Result<(), SyncError> {
        let doc = {
            let mut docs = self.inner.docs();
            match docs.get_mut(key) {
                Some(Slot::Live { doc, .. }) => doc.upgrade(),
                Some(Slot::Loading { missed, .. }) => {
                    missed.push(update);
                    None
                }
                None => None,
            }
        };
        let Some(doc) = doc else { return Ok(()) };
        match update {
            Some(update) => doc.merge_durable([update]).map(drop),
            None => doc.catch_up().await.map(drop),
        }
    }

    /// Reads every live document's log from the store and merges it: after this node may have
    /// missed announcements from the others (the bus broke and came back).
    pub async fn catch_up_all(&self) {
        for doc in self.held_docs() {
            if let Err(error) = doc.catch_up().await {
                tracing::warn!(doc = %doc.key(), %error, "catching up with the store failed");
            }
        }
    }

    /// How many documents are in memory and held by someone.
    pub fn live_count(&self) -> usize {
        self.inner
            .docs()
            .values()
            .filter(|slot| matches!(slot, Slot::Live { doc, .. } if doc.strong_count() > 0))
            .count()
    }

    /// Every document in memory and held by someone, with the sessions of its connected peers,
    /// sorted by key. Locks the registry, then each document briefly, one at a time, so the
    /// picture is not one instant: a peer may attach or leave while it is taken.
    pub fn live_docs(&self) -> Vec<LiveDocListing> {
        let mut listings: Vec<LiveDocListing> = self
            .held_docs()
            .into_iter()
            .map(|doc| LiveDocListing { key: doc.key().clone(), peers: doc.core.lock().peer_sessions() })
            .collect();
        listings.sort_by(|a, b| a.key.cmp(&b.key));
        listings
    }

    /// The documents in memory that someone holds; the registry lock is released on return.
    fn held_docs(&self) -> Vec<Arc<LiveDoc>> {
        self.inner
            .docs()
            .values()
            .filter_map(|slot| match slot {
                Slot::Live { doc, .. } => doc.upgrade(),
                Slot::Loading { .. } => None,
            })
            .collect()
    }

    /// The sync engine's counters.
    pub fn metrics(&self) -> &SyncMetrics {
        &self.inner.metrics
    }

    /// The counters together with gauges read now from every live document: peers and their
    /// outbound queue depths. Locks each document briefly, one at a time.
    pub fn snapshot(&self) -> SyncSnapshot {
        let docs = self.held_docs();
        let mut snapshot = SyncSnapshot::counters(&self.inner.metrics);
        snapshot.live_docs = docs.len() as u64;
        for doc in docs {
            let state = doc.core.lock();
            let (queued, longest) = state.outbound_depth();
            snapshot.peers += state.peer_count() as u64;
            snapshot.outbound_queued += queued;
            snapshot.outbound_queued_max = snapshot.outbound_queued_max.max(longest);
        }
        snapshot
    }

    /// Waits until every document's persistence task has finished, that is until every
    /// document was dropped and its queued changes written out (or their write failed). Call
    /// at shutdown after dropping every [`crate::Peer`] and `Arc<LiveDoc>`; it does not return
    /// while a document is still held.
    pub async fn shutdown(&self) {
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }
}

impl std::fmt::Debug for DocRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocRegistry").field("live", &self.live_count()).finish_non_exhaustive()
    }
}
