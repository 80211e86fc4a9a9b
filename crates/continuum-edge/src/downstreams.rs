//! [`Downstreams`]: the set of the edge's [`Downstream`] tasks — one for every document with at
//! least one device at this edge, started when its first device attaches (the registry's
//! peers hook), ended a linger after its last one left.
//!
//! The invariant: while a document has a device, it has a running downstream. A device
//! attaches before the hook looks at the set, and a task lets go only under the set's lock
//! after seeing no device there ([`Registration::release_if_idle`]); so either the task sees
//! the device and stays, or the hook finds no task and starts one. A document that failed and
//! came back as a new incarnation gets a new task (the old one is stopped).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use continuum_core::DocKey;
use continuum_sync::{LiveDoc, PeersHook};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::downstream::{Downstream, Registration};
use crate::metrics::EdgeMetrics;
use crate::origin::OriginClient;

/// How long a document without devices keeps its downstream by default: a device reloading
/// the page comes back to a document still in sync.
pub const DEFAULT_LINGER: Duration = Duration::from_secs(5);

/// A running task.
struct Running {
    id: u64,
    /// The incarnation it serves, by address (only compared: the task holds the document, so
    /// the address is not reused while it runs).
    doc: usize,
    stop: CancellationToken,
}

/// The running tasks by document.
type RunningSet = HashMap<DocKey, Running>;

struct Inner {
    origin: OriginClient,
    metrics: Arc<EdgeMetrics>,
    linger: Duration,
    /// Never held across `.await`.
    running: Mutex<RunningSet>,
    next_id: AtomicU64,
    tasks: TaskTracker,
    stop: CancellationToken,
    runtime: tokio::runtime::Handle,
}

/// The edge's downstreams. Cheap to clone.
#[derive(Clone)]
pub struct Downstreams {
    inner: Arc<Inner>,
}

impl Inner {
    fn running(&self) -> MutexGuard<'_, RunningSet> {
        self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forgets task `id` of `key` if it is still the one running.
    fn forget(&self, running: &mut RunningSet, key: &DocKey, id: u64) {
        if running.get(key).is_some_and(|current| current.id == id) {
            running.remove(key);
        }
        self.metrics.downstream_docs.set(running.len() as i64);
    }
}

/// What a task holds of the set: its place, given up when it ends.
struct Place {
    inner: Arc<Inner>,
    key: DocKey,
    id: u64,
}

impl Registration for Place {
    fn release_if_idle(&self, doc: &LiveDoc) -> bool {
        let mut running = self.inner.running();
        if doc.device_count() > 0 {
            return false;
        }
        self.inner.forget(&mut running, &self.key, self.id);
        true
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut running = self.inner.running();
        self.inner.forget(&mut running, &self.key, self.id);
    }
}

impl Downstreams {
    /// A set of downstreams from `origin`, each letting go `linger` after its document's last
    /// device left. Call within the runtime that is to run them.
    pub fn new(origin: OriginClient, metrics: Arc<EdgeMetrics>, linger: Duration) -> Self {
        let inner = Inner {
            origin,
            metrics,
            linger,
            running: Mutex::default(),
            next_id: AtomicU64::new(0),
            tasks: TaskTracker::new(),
            stop: CancellationToken::new(),
            runtime: tokio::runtime::Handle::current(),
        };
        Self { inner: Arc::new(inner) }
    }

    /// The hook to register with the app's registry ([`continuum_sync::DocRegistry::on_peers`]).
    pub fn hook(&self) -> PeersHook {
        let downstreams = self.clone();
        Arc::new(move |doc| downstreams.peers_changed(doc))
    }

    /// A document's devices changed: it gets a downstream if it has a device and none serves
    /// this incarnation of it. Never waits.
    fn peers_changed(&self, doc: &Arc<LiveDoc>) {
        let inner = &self.inner;
        if doc.device_count() == 0 || inner.stop.is_cancelled() {
            return;
        }
        let address = Arc::as_ptr(doc) as usize;
        let mut running = inner.running();
        if let Some(current) = running.get(doc.key()) {
            if current.doc == address {
                return;
            }
            current.stop.cancel();
        }
        let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
        let stop = inner.stop.child_token();
        running.insert(doc.key().clone(), Running { id, doc: address, stop: stop.clone() });
        inner.metrics.downstream_docs.set(running.len() as i64);
        drop(running);
        let task = Downstream {
            doc: Arc::clone(doc),
            origin: inner.origin.clone(),
            metrics: Arc::clone(&inner.metrics),
            linger: inner.linger,
            registration: Box::new(Place { inner: Arc::clone(inner), key: doc.key().clone(), id }),
        };
        inner.tasks.spawn_on(task.run(stop), &inner.runtime);
    }

    /// How many documents have a downstream.
    pub fn len(&self) -> usize {
        self.inner.running().len()
    }

    /// Whether no document has a downstream.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops every downstream (and starts no more): each closes its socket and lets go of its
    /// document. Call when shutdown begins, before the app waits for its documents.
    pub fn stop(&self) {
        self.inner.stop.cancel();
    }

    /// Waits until every downstream task has ended (after [`Downstreams::stop`]).
    pub async fn wait(&self) {
        self.inner.tasks.close();
        self.inner.tasks.wait().await;
    }
}

impl std::fmt::Debug for Downstreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Downstreams").field("running", &self.len()).finish_non_exhaustive()
    }
}
