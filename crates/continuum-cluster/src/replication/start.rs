//! [`ReplicationConfig`] and [`start`]: one node of a replicated cluster, from its own stores to
//! the [`Stores`] the server runs on.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chitchat::transport::{Transport, UdpTransport};
use continuum_core::Clock;
use continuum_store::{DocStore, SessionStore, Stores};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::error::ReplicationError;
use super::fault::Cut;
use super::listener;
use super::membership::{Membership, MembershipConfig};
use super::metrics::ReplicationMetrics;
use super::node::{NodeParts, ReplicaNode};
use super::peers::Peers;
use super::serve::NodeHandler;
use super::stores::{PeerBus, ReplicatedDocs, ReplicatedSessions};
use super::view::Replicas;

/// How one node joins a replicated cluster (`[cluster]` in the TOML, `--node-id`,
/// `--cluster-listen`, `--peers`, `--replicas`).
#[derive(Clone, Debug)]
pub struct ReplicationConfig {
    /// This node's id, unique in the cluster.
    pub node_id: String,
    /// The cluster's name; nodes of another cluster are refused.
    pub cluster: String,
    /// Where this node gossips (UDP) and takes replication connections (TCP).
    pub listen: SocketAddr,
    /// Other nodes to contact first (at least one live one to join).
    pub peers: Vec<SocketAddr>,
    /// How many nodes hold each key.
    pub replicas: Replicas,
    /// How often membership gossips.
    pub gossip_interval: Duration,
    /// The failure detector's phi threshold.
    pub phi_threshold: f64,
    /// How long an operation waits for membership to settle before it fails as unavailable.
    pub settle_timeout: Duration,
    /// Where the node counts (created with the configuration, so `/metrics` can register it
    /// before the node starts).
    pub metrics: Arc<ReplicationMetrics>,
    /// A network fault to inject (peers this node cannot reach), for partition tests; `None`
    /// in production.
    pub cut: Option<Arc<Cut>>,
    /// The `drop-copies` fault mode (feature `fault-modes`, tests only): as a backup, this
    /// node acknowledges every tenth copy a primary sends without storing it (see
    /// [`super::drop_copies`]). `false` by default.
    #[cfg(feature = "fault-modes")]
    pub drop_copies: bool,
}

impl ReplicationConfig {
    /// A node `node_id` listening on `listen` with these peers, and defaults for the rest:
    /// one backup, gossip every 100 ms, phi 8, a 5 s settle timeout.
    pub fn new(node_id: impl Into<String>, listen: SocketAddr, peers: Vec<SocketAddr>) -> Self {
        Self {
            node_id: node_id.into(),
            cluster: "continuum".into(),
            listen,
            peers,
            replicas: Replicas::default(),
            gossip_interval: Duration::from_millis(100),
            phi_threshold: 8.0,
            settle_timeout: Duration::from_secs(5),
            metrics: Arc::default(),
            cut: None,
            #[cfg(feature = "fault-modes")]
            drop_copies: false,
        }
    }
}

/// A running node: the stores to serve over, and what it counts.
pub struct ReplicatedNode {
    /// Sessions, documents and the peer bus, for the server.
    pub stores: Stores,
    /// The node itself (its view, for tests and `/readyz`).
    pub node: Arc<ReplicaNode>,
    /// Replication's counters.
    pub metrics: Arc<ReplicationMetrics>,
}

/// Starts a node over its own stores with UDP gossip; see [`start_with`].
pub async fn start(
    config: ReplicationConfig,
    sessions: Arc<dyn SessionStore>,
    docs: Arc<dyn DocStore>,
    clock: Arc<dyn Clock>,
) -> Result<ReplicatedNode, ReplicationError> {
    match config.cut.clone() {
        Some(cut) => start_with(config, sessions, docs, clock, &cut.transport()).await,
        None => start_with(config, sessions, docs, clock, &UdpTransport).await,
    }
}

/// Starts a node: binds the peer listener, joins membership through `transport`, and returns
/// the stores the server runs on. Closing the session store stops the node's tasks.
pub async fn start_with(
    config: ReplicationConfig,
    sessions: Arc<dyn SessionStore>,
    docs: Arc<dyn DocStore>,
    clock: Arc<dyn Clock>,
    transport: &dyn Transport,
) -> Result<ReplicatedNode, ReplicationError> {
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ReplicationError::Listen { addr: config.listen, source })?;
    let tasks = TaskTracker::new();
    let cancel = CancellationToken::new();
    let metrics = Arc::clone(&config.metrics);
    let membership_config = MembershipConfig {
        node_id: config.node_id.clone(),
        cluster: config.cluster.clone(),
        listen: config.listen,
        peers: config.peers.clone(),
        gossip_interval: config.gossip_interval,
        phi_threshold: config.phi_threshold,
    };
    let membership =
        Membership::start(&membership_config, transport, Arc::clone(&metrics), &tasks, cancel.clone())
            .await?;
    let peers = Arc::new(
        Peers::new(
            config.node_id.clone(),
            config.cluster.clone(),
            tasks.clone(),
            cancel.clone(),
            Arc::clone(&metrics),
        )
        .with_cut(config.cut.clone()),
    );
    let node = Arc::new(ReplicaNode::new(NodeParts {
        me: config.node_id.clone(),
        replicas: config.replicas,
        sessions,
        docs,
        view: membership.view(),
        peers,
        inbox: PeerBus::inbox(),
        clock,
        metrics: Arc::clone(&metrics),
        settle_timeout: config.settle_timeout,
        loss: membership.loss(),
        transferred: membership.transferred(),
        peer_views: membership.peer_views(),
        adopted: membership.adopted(),
        #[cfg(feature = "fault-modes")]
        drop_copies: config.drop_copies.then(super::drop_copies::DropCopies::default),
    }));
    tasks.spawn(super::transfer::run(Arc::clone(&node), membership.chitchat(), cancel.clone()));
    let (watched, gossip, stop_watching) = (Arc::clone(&node), membership.chitchat(), cancel.clone());
    tasks.spawn(async move { watched.stall.run(gossip, stop_watching).await });
    tasks.spawn(super::report::publish_holdings(Arc::clone(&node), membership.chitchat(), cancel.clone()));
    let handler = Arc::new(NodeHandler(Arc::clone(&node)));
    tasks.spawn(listener::serve(
        listener,
        config.cluster,
        config.node_id,
        handler,
        tasks.clone(),
        cancel.clone(),
    ));
    let stop = cancel.clone();
    tasks.spawn(async move {
        stop.cancelled().await;
        membership.shutdown().await;
    });
    tasks.close();
    let stores = Stores {
        sessions: Arc::new(ReplicatedSessions::new(Arc::clone(&node), cancel)),
        docs: Arc::new(ReplicatedDocs::new(Arc::clone(&node))),
        bus: Some(Arc::new(PeerBus::new(Arc::clone(&node)))),
    };
    Ok(ReplicatedNode { stores, node, metrics })
}
