//! Nodes of one deployment in one process: a shared memory store for sessions and documents,
//! one sealing key ring, a relay per node, and a [`Recorder`] as each node's local node.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use continuum_cluster::{LocalNode, Relay, RelayConfig, RelayHandle};
use continuum_core::seal::{KeyRing, SealKey};
use continuum_core::{Clock, DocKey, ManualClock, NewSession, Principal, Timestamp};
use continuum_store::{
    Bus, MemoryDocStore, MemoryStore, SealedConfig, SealedSessions, SessionEvent, Sessions,
};
use continuum_sync::{DocRegistry, LiveDoc, SyncConfig};
use serde_json::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long a change may take to cross nodes (generous: the machine is shared).
pub const SOON: Duration = Duration::from_secs(5);
/// How long to wait to be sure something does not happen.
pub const QUIET: Duration = Duration::from_millis(200);

/// What every node of the deployment shares.
pub struct Deployment {
    pub sessions: Arc<MemoryStore>,
    pub docs: Arc<MemoryDocStore>,
    pub ring: KeyRing,
    pub clock: ManualClock,
}

impl Deployment {
    pub fn new() -> Self {
        Self {
            sessions: Arc::new(MemoryStore::new()),
            docs: Arc::new(MemoryDocStore::new()),
            ring: KeyRing::new(vec![SealKey::generate()]).unwrap(),
            clock: ManualClock::new(Timestamp::from_millis(1_800_000_000_000)),
        }
    }

    /// A node whose relay talks over `bus` (`None`: a single node).
    pub fn node(&self, bus: Option<Arc<dyn Bus>>, config: RelayConfig) -> Node {
        let clock: Arc<dyn Clock> = Arc::new(self.clock.clone());
        let sessions = Sessions::new(Arc::clone(&self.sessions) as _, Arc::clone(&clock));
        // Cached epochs are trusted for a minute (and the clock stands still): only the relay
        // can make a node drop one in time.
        let sealed_config = SealedConfig { epoch_ttl: Duration::from_secs(60), ..SealedConfig::new("c") };
        let sealed = SealedSessions::new(
            self.ring.clone(),
            Arc::clone(&self.sessions) as _,
            Arc::clone(&clock),
            sealed_config,
        );
        let registry = self.registry();
        let seen = Arc::new(Recorder::default());
        let (tasks, cancel) = (TaskTracker::new(), CancellationToken::new());
        let relay = Relay::new(sessions.clone(), sealed.clone(), registry.clone(), Arc::clone(&seen) as _)
            .with_bus(bus)
            .with_config(config)
            .start(&tasks, &cancel);
        Node { sessions, sealed, registry, seen, relay, _stop: cancel.drop_guard() }
    }

    /// A registry on the shared documents with no relay: its appends are announced to nobody.
    pub fn registry(&self) -> DocRegistry {
        DocRegistry::new(Arc::clone(&self.docs) as _, Arc::new(self.clock.clone()), SyncConfig::default())
    }
}

/// One node; its relay stops when this is dropped.
pub struct Node {
    pub sessions: Sessions,
    pub sealed: SealedSessions,
    pub registry: DocRegistry,
    pub seen: Arc<Recorder>,
    pub relay: RelayHandle,
    _stop: tokio_util::sync::DropGuard,
}

impl Node {
    /// A session of `principal`, made on this node.
    pub async fn create(&self, principal: &str) -> continuum_core::SessionId {
        let ask =
            NewSession { principal: Some(Principal::parse(principal).unwrap()), ..NewSession::default() };
        self.sessions.create(ask).await.unwrap().0.sid
    }
}

/// What a local node was told.
#[derive(Clone, Debug, PartialEq)]
pub enum Seen {
    Event(SessionEvent),
    SignedOut(Principal),
    Missed(&'static str),
}

/// A local node that records what it is told.
pub struct Recorder {
    seen: watch::Sender<Vec<Seen>>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self { seen: watch::Sender::new(Vec::new()) }
    }
}

impl Recorder {
    /// Waits until what was seen satisfies `done`; false after [`SOON`].
    pub async fn wait_for(&self, done: impl Fn(&[Seen]) -> bool) -> bool {
        let mut seen = self.seen.subscribe();
        tokio::time::timeout(SOON, seen.wait_for(|seen| done(seen))).await.is_ok()
    }

    /// What was seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.borrow().clone()
    }
}

impl LocalNode for Recorder {
    fn session_event(&self, event: &SessionEvent) {
        self.seen.send_modify(|seen| seen.push(Seen::Event(event.clone())));
    }

    fn signed_out(&self, principal: &Principal) {
        self.seen.send_modify(|seen| seen.push(Seen::SignedOut(principal.clone())));
    }

    fn missed(&self, why: &'static str) {
        self.seen.send_modify(|seen| seen.push(Seen::Missed(why)));
    }
}

/// The document every scenario edits.
pub fn draft() -> DocKey {
    DocKey::parse("user:alice", "draft").unwrap()
}

/// Waits until `doc`'s JSON satisfies `done`; false after `within`.
pub async fn doc_reaches(doc: &LiveDoc, within: Duration, done: impl Fn(&Value) -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if done(&doc.to_json()) {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
