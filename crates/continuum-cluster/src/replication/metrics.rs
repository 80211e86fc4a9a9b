//! [`ReplicationMetrics`]: what replication counts, for `/metrics`.

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Replication's counters and gauges; registered by whoever serves `/metrics`.
#[derive(Debug, Default)]
pub struct ReplicationMetrics {
    /// Live members in this node's view.
    pub members: Gauge,
    /// Bytes this node sent to peers (frames, headers included).
    pub bytes_sent: Counter,
    /// Writes this node applied as a primary and copied to its backups.
    pub replicated_writes: Counter,
    /// Requests this node forwarded to a key's primary.
    pub forwarded: Counter,
    /// Attempts retried because membership was changing (views differed, an owner was unreachable).
    pub retries: Counter,
    /// Microseconds spent waiting for backups, summed (with `replicated_writes`: the mean lag).
    pub replication_wait_micros: Counter<u64, AtomicU64>,
    /// Copies this node is sending to new owners after a membership change, right now.
    pub transfers_in_flight: Gauge,
    /// Copies this node handed to new owners after membership changes (sessions and documents).
    pub transferred: Counter,
    /// Sessions this node is the primary of (counted every second with its holdings).
    pub owned_sessions: Gauge,
    /// Documents this node is the primary of.
    pub owned_documents: Gauge,
    /// Sessions in the cluster: the sum of every live node's last published primaries.
    pub cluster_sessions: Gauge,
    /// Sessions no live node holds (every owner left at once), as this node sees it.
    pub unavailable_sessions: Gauge,
    /// Documents no live node holds, as this node sees it.
    pub unavailable_documents: Gauge,
    /// Times this node saw keys become unavailable (more than `k` owners gone).
    pub losses: Counter,
}

impl ReplicationMetrics {
    /// Registers every counter under `replication_` in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("replication");
        registry.register("members", "Live members in this node's view", self.members.clone());
        registry.register("sent_bytes", "Bytes this node sent to its peers", self.bytes_sent.clone());
        registry.register(
            "writes",
            "Writes this node applied as a primary after its backups had them",
            self.replicated_writes.clone(),
        );
        registry.register("forwarded", "Requests forwarded to a key's owner", self.forwarded.clone());
        registry.register("retries", "Attempts retried while membership settled", self.retries.clone());
        registry.register(
            "backup_wait_microseconds",
            "Time spent waiting for backups, summed (divide by writes for the mean replication lag)",
            self.replication_wait_micros.clone(),
        );
        registry.register(
            "transfers_in_flight",
            "Copies being sent to new owners after a membership change",
            self.transfers_in_flight.clone(),
        );
        registry.register(
            "transferred",
            "Copies handed to new owners after membership changes",
            self.transferred.clone(),
        );
        registry.register(
            "owned_sessions",
            "Sessions this node is the primary of",
            self.owned_sessions.clone(),
        );
        registry.register(
            "owned_documents",
            "Documents this node is the primary of",
            self.owned_documents.clone(),
        );
        registry.register(
            "cluster_sessions",
            "Sessions in the cluster, from every live node's last published count",
            self.cluster_sessions.clone(),
        );
        registry.register(
            "unavailable_sessions",
            "Sessions no live node holds: every owner left at once (more than the replicas)",
            self.unavailable_sessions.clone(),
        );
        registry.register(
            "unavailable_documents",
            "Documents no live node holds: every owner left at once",
            self.unavailable_documents.clone(),
        );
        registry.register("losses", "Times keys became unavailable with their owners", self.losses.clone());
    }
}
