//! [`ReplicationMetrics`]: what replication counts, for `/metrics`.

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;

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
}
