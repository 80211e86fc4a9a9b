//! Replicated clusters in one process over real sockets: each node its own redb file, its own
//! UDP gossip and TCP replication port on loopback.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use continuum_cluster::replication::{self, Replicas, ReplicatedNode, ReplicationConfig};
use continuum_core::Clock;
use continuum_store_redb::{RedbConfig, RedbStore};
use tempfile::TempDir;

/// How long membership may take to converge on this (shared, slow) machine.
pub const CONVERGE: Duration = Duration::from_secs(20);

/// A new session record (of principal `alice`) whose primary is `primary` under `node`'s view.
pub fn session_with_primary(node: &ReplicatedNode, primary: &str) -> continuum_core::SessionRecord {
    use continuum_core::placement::PlacementKey;
    use continuum_core::{NewSession, Principal, SessionPolicy, Timestamp};
    let view = node.node.view();
    loop {
        let ask = NewSession { principal: Some(Principal::parse("alice").unwrap()), ..NewSession::default() };
        let now = Timestamp::from_millis(1_900_000_000_000);
        let (record, _) = SessionPolicy::default().new_session(ask, now).unwrap();
        if view.primary(&PlacementKey::session(&record.sid)) == Some(primary) {
            return record;
        }
    }
}

/// A free loopback port for both UDP and TCP (bound, then released).
pub fn free_addr() -> SocketAddr {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("bind tcp");
        let addr = tcp.local_addr().expect("addr");
        if std::net::UdpSocket::bind(addr).is_ok() {
            return addr;
        }
    }
}

/// The nodes of one cluster, with their data directories.
pub struct Cluster {
    pub nodes: Vec<ReplicatedNode>,
    pub addrs: Vec<SocketAddr>,
    pub dir: TempDir,
}

/// The configuration of node `i` of a cluster at `addrs`, gossiping fast.
pub fn config(i: usize, addrs: &[SocketAddr], replicas: Replicas) -> ReplicationConfig {
    let peers = addrs.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, addr)| *addr).collect();
    let mut config = ReplicationConfig::new(format!("n{i}"), addrs[i], peers);
    config.replicas = replicas;
    config.gossip_interval = Duration::from_millis(50);
    config
}

/// Starts node `i` over a redb file in `dir`.
pub async fn start_node(
    config: ReplicationConfig,
    dir: &std::path::Path,
    clock: Arc<dyn Clock>,
) -> ReplicatedNode {
    let path = dir.join(format!("{}.redb", config.node_id));
    let store = Arc::new(RedbStore::open(&path, RedbConfig::default()).expect("open redb"));
    replication::start(config, store.clone(), store, clock).await.expect("start node")
}

impl Cluster {
    /// `n` nodes, started and converged (every node sees every other).
    pub async fn start(n: usize, replicas: Replicas, clock: Arc<dyn Clock>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let addrs: Vec<SocketAddr> = (0..n).map(|_| free_addr()).collect();
        let mut nodes = Vec::new();
        for i in 0..n {
            nodes.push(start_node(config(i, &addrs, replicas), dir.path(), Arc::clone(&clock)).await);
        }
        let cluster = Self { nodes, addrs, dir };
        cluster.converge(n).await;
        cluster
    }

    /// Waits until every running node sees `n` members and every member publishes the view it
    /// is on (until then writes wait, counted as retries).
    pub async fn converge(&self, n: usize) {
        let deadline = tokio::time::Instant::now() + CONVERGE;
        loop {
            let sizes: Vec<usize> = self.nodes.iter().map(|node| node.node.view().members().len()).collect();
            let agreed = self.nodes.iter().all(|node| node.node.members_agree());
            if agreed && sizes.iter().all(|size| *size == n) {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "membership did not converge to {n}: {sizes:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops every node.
    pub async fn stop(self) {
        for node in &self.nodes {
            let _ = node.stores.sessions.close().await;
        }
    }
}
