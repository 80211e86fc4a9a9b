//! [`Relay`]: the tasks that carry what happens on this node to where it matters — to the local
//! node (the layer above, through [`LocalNode`]) and to the other nodes — and what the other
//! nodes announce to this node's live documents, sealed sessions and local node.
//!
//! ```text
//!  Sessions::events ──────────► LocalNode::session_event ──► bus: publish the session event
//!  SealedSessions sign-outs ──► LocalNode::signed_out ──────► bus: publish the sign-out
//!     (lagged: LocalNode::missed)
//!  DocRegistry::on_append ────► bounded queue ──────────────► bus: publish the append
//!     (queue full: bytes dropped and counted, the document ─► bus: publish it without bytes)
//!  bus: session event ────────► LocalNode::session_event
//!  bus: signed out ───────────► SealedSessions::invalidate (the cached epoch is dropped),
//!                               LocalNode::signed_out
//!  bus: doc appended ─────────► DocRegistry::apply_durable (this node's peers receive it;
//!                               without bytes, the live document reads its log)
//!  bus: gap (or lagged) ──────► LocalNode::missed, DocRegistry::catch_up_all (every live
//!                               document reads its log)
//! ```
//!
//! A single node (embedded or memory store) has no bus: only the first two lines run, without
//! their publishing. The bus is a notification channel, not a log, so every consumer falls back
//! on the store: the server's sockets re-check their session periodically, and documents catch
//! up with the log after a gap and before each compaction.

use std::sync::Arc;

use continuum_store::{Bus, SealedSessions, Sessions};
use continuum_sync::DocRegistry;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::announce;
use crate::appends::append_queue;
use crate::hear::Listener;
use crate::local::LocalNode;
use crate::metrics::RelayMetrics;

/// The default of [`RelayConfig::append_capacity`].
pub const APPEND_QUEUE_CAPACITY: usize = 1024;

/// Bounds of the relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelayConfig {
    /// How many document appends may wait to be published on the bus (at least one), each
    /// holding its bytes. When the queue is full, an append's bytes are dropped and counted
    /// ([`RelayMetrics::appends_without_bytes`]), and its document is announced once more
    /// without bytes as soon as the publisher gets to it: the other nodes then read its log
    /// from the store, so they converge all the same, one store read later.
    pub append_capacity: usize,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self { append_capacity: APPEND_QUEUE_CAPACITY }
    }
}

/// The relay of one node: its session services, its live documents, the local node that
/// carries out the effects above the cluster, and the bus to the other nodes (none for a
/// single node). Started with [`Relay::start`].
pub struct Relay {
    sessions: Sessions,
    sealed: SealedSessions,
    registry: DocRegistry,
    node: Arc<dyn LocalNode>,
    bus: Option<Arc<dyn Bus>>,
    config: RelayConfig,
}

/// A started relay: what it counts. Cheap to clone.
#[derive(Clone, Debug)]
pub struct RelayHandle {
    metrics: Arc<RelayMetrics>,
}

impl RelayHandle {
    /// The relay's counters.
    pub fn metrics(&self) -> &RelayMetrics {
        &self.metrics
    }
}

impl Relay {
    /// The relay of a node with no other nodes (no bus) and the default bounds.
    pub fn new(
        sessions: Sessions,
        sealed: SealedSessions,
        registry: DocRegistry,
        node: Arc<dyn LocalNode>,
    ) -> Self {
        Self { sessions, sealed, registry, node, bus: None, config: RelayConfig::default() }
    }

    /// Talks to the other nodes over `bus` (`None`: a single node).
    pub fn with_bus(mut self, bus: Option<Arc<dyn Bus>>) -> Self {
        self.bus = bus;
        self
    }

    /// Other bounds than the defaults.
    pub fn with_config(mut self, config: RelayConfig) -> Self {
        self.config = config;
        self
    }

    /// Spawns the relay's tasks on `tasks`; they end when `cancel` fires. Everything that
    /// happens after this returns is relayed: the subscriptions are taken here, not by the
    /// tasks. Call before opening documents (before serving): the registry's append hook is
    /// registered here, and documents already live keep running without it.
    pub fn start(self, tasks: &TaskTracker, cancel: &CancellationToken) -> RelayHandle {
        let Self { sessions, sealed, registry, node, bus, config } = self;
        let metrics = Arc::new(RelayMetrics::default());
        let (events, signed_out) = (sessions.events(), sealed.signed_out());
        tasks.spawn(announce::session_events(events, Arc::clone(&node), bus.clone(), cancel.clone()));
        tasks.spawn(announce::sign_outs(signed_out, Arc::clone(&node), bus.clone(), cancel.clone()));
        if let Some(bus) = bus {
            let (hook, publisher) = append_queue(config.append_capacity, Arc::clone(&metrics));
            registry.on_append(hook);
            let heard = bus.subscribe();
            tasks.spawn(publisher.run(bus, cancel.clone()));
            tasks.spawn(Listener { sealed, registry, node }.run(heard, cancel.clone()));
        }
        RelayHandle { metrics }
    }
}
