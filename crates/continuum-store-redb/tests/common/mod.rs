//! Helpers shared by the black-box tests.

#![allow(dead_code)]

use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use continuum_core::{NewSession, Principal, SessionPolicy, SessionRecord, Timestamp};
use continuum_store::StoreError;
use continuum_store_redb::{CommitStats, RedbConfig, RedbStore};
use tokio::task::JoinHandle;

/// Where the tests' clocks start.
pub const START: Timestamp = Timestamp::from_millis(1_800_000_000_000);

/// A new active session record of `principal`, version 1, created at [`START`].
pub fn record(principal: &str) -> SessionRecord {
    let ask = NewSession {
        principal: Some(Principal::parse(principal).expect("principal")),
        idle_timeout_secs: Some(600),
        absolute_timeout_secs: Some(3600),
        ..NewSession::default()
    };
    SessionPolicy::default().new_session(ask, START).expect("new session").0
}

/// `record` with the version bumped and an attribute set, as a patch would write it.
pub fn patched(record: &SessionRecord, key: &str) -> SessionRecord {
    let mut next = record.clone();
    next.version += 1;
    next.attributes.insert(key.into(), serde_json::json!(true));
    next
}

/// A configuration whose observer appends every commit to the returned list.
pub fn recording_config() -> (RedbConfig, Arc<Mutex<Vec<CommitStats>>>) {
    let commits = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&commits);
    let config = RedbConfig::default().with_observer(move |stats| seen.lock().expect("lock").push(stats));
    (config, commits)
}

/// Opens `path`, retrying for a while if the file is still held by a store being dropped.
pub async fn reopen(path: &Path) -> RedbStore {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let owned = path.to_owned();
        match tokio::task::spawn_blocking(move || RedbStore::open(&owned, RedbConfig::default()))
            .await
            .expect("open task")
        {
            Ok(store) => return store,
            Err(StoreError::Backend(_)) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(error) => panic!("cannot reopen {}: {error:?}", path.display()),
        }
    }
}

/// Holds the writer thread inside the commit observer after its first commit until
/// [`HeldWriter::release`], so the test decides exactly which requests form the next batch.
pub struct HeldWriter {
    /// The size of every commit so far.
    pub batches: Arc<Mutex<Vec<usize>>>,
    held: tokio::sync::mpsc::UnboundedReceiver<()>,
    gate: std::sync::mpsc::Sender<()>,
}

impl HeldWriter {
    /// A configuration whose writer is held after its first commit, and the control for it.
    pub fn config() -> (RedbConfig, HeldWriter) {
        let (gate, gate_rx) = std::sync::mpsc::channel::<()>();
        let (held_tx, held) = tokio::sync::mpsc::unbounded_channel::<()>();
        let gate_rx = Mutex::new(gate_rx);
        let first = AtomicBool::new(true);
        let batches = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&batches);
        let config = RedbConfig::default().with_observer(move |stats| {
            seen.lock().expect("lock").push(stats.ops);
            if first.swap(false, Ordering::SeqCst) {
                held_tx.send(()).expect("the test waits for this");
                gate_rx.lock().expect("lock").recv().expect("the gate opens");
            }
        });
        (config, HeldWriter { batches, held, gate })
    }

    /// Waits until the writer has committed its first batch and is held.
    pub async fn until_held(&mut self) {
        self.held.recv().await.expect("the writer committed a first batch");
    }

    /// Lets the writer go on.
    pub fn release(&self) {
        self.gate.send(()).expect("the writer waits at the gate");
    }
}

/// Starts `write` on its own task and waits until the queue holds `n` requests, so requests
/// queue in the order the test starts them.
pub async fn queue<T, F, Fut>(store: &RedbStore, n: usize, write: F) -> JoinHandle<T>
where
    T: Send + 'static,
    F: FnOnce(RedbStore) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
{
    let task = tokio::spawn(write(store.clone()));
    tokio::time::timeout(Duration::from_secs(10), async {
        while store.queued_writes() < n {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("the request reaches the queue");
    task
}
