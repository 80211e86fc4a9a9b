//! [`EdgeMetrics`]: what the edge counts, registered under `continuum_edge_*` on the server's
//! `/metrics` (see [`EdgeMetrics::register`]).

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The edge's counters. Shared by its tasks behind an `Arc`; every metric is a cheap clone of
/// an atomic.
#[derive(Debug)]
pub struct EdgeMetrics {
    /// Validations answered from the cache.
    pub cache_hits: Counter,
    /// Validations that asked the origin.
    pub cache_misses: Counter,
    /// Misses the origin did not answer (the validation failed closed with 503).
    pub origin_errors: Counter,
    /// How old (since fetched) the entries that answered were, in seconds.
    pub hit_age: Histogram,
    /// 1 while the origin's event stream is connected.
    pub stream_connected: Gauge,
    /// When the stream last carried anything (an event or a heartbeat), Unix seconds: the
    /// staleness of the cache is `time() - this` (entries stop answering past the cap).
    pub stream_heard_at: Gauge<f64, AtomicU64>,
    /// Events applied from the origin's stream.
    pub events_applied: Counter,
    /// Times the stream was (re)opened.
    pub stream_connects: Counter,
    /// Touches not forwarded to the origin because their queue was full.
    pub touches_dropped: Counter,
    /// Requests forwarded to the origin.
    pub forwarded: Counter,
    /// Updates in the queue waiting for the origin.
    pub queue_length: Gauge,
    /// The seq of the last update queued.
    pub queue_last_seq: Gauge,
    /// How long the oldest update the origin has not answered for has waited, in seconds (0
    /// when none waits); see [`crate::queue_age`] for how it is dated.
    pub queue_oldest_age: Gauge<f64, AtomicU64>,
    /// Replay batches the origin answered.
    pub replays: Counter,
    /// Replay batches that failed (origin away, or an error), retried.
    pub replay_errors: Counter,
    /// Queued updates the origin applied, as it counts them for this edge (all lifetimes).
    pub origin_applied: Gauge,
    /// Queued updates the origin refused, as it counts them for this edge (all lifetimes).
    pub origin_refused: Gauge,
    /// Queued updates whose content the origin's document already had (an origin crash between
    /// applying a batch and writing its mark), as it counts them for this edge (all lifetimes).
    /// With `origin_applied` and `origin_refused` it sums to the origin's mark.
    pub origin_already_held: Gauge,
    /// Queued updates refused at replay, seen by this process.
    pub refused: Counter,
    /// Documents with a downstream from the origin (devices connected, or lingering).
    pub downstream_docs: Gauge,
    /// Downstream sockets open to the origin now.
    pub downstream_connected: Gauge,
    /// Downstream sockets opened.
    pub downstream_connects: Counter,
    /// Downstream connections that failed or broke (retried with backoff).
    pub downstream_errors: Counter,
    /// Updates from the origin that changed the edge's copy (kept locally, never queued).
    pub downstream_updates: Counter,
}

impl Default for EdgeMetrics {
    fn default() -> Self {
        Self {
            cache_hits: Counter::default(),
            cache_misses: Counter::default(),
            origin_errors: Counter::default(),
            hit_age: Histogram::new([0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0]),
            stream_connected: Gauge::default(),
            stream_heard_at: Gauge::default(),
            events_applied: Counter::default(),
            stream_connects: Counter::default(),
            touches_dropped: Counter::default(),
            forwarded: Counter::default(),
            queue_length: Gauge::default(),
            queue_last_seq: Gauge::default(),
            queue_oldest_age: Gauge::default(),
            replays: Counter::default(),
            replay_errors: Counter::default(),
            origin_applied: Gauge::default(),
            origin_refused: Gauge::default(),
            origin_already_held: Gauge::default(),
            refused: Counter::default(),
            downstream_docs: Gauge::default(),
            downstream_connected: Gauge::default(),
            downstream_connects: Counter::default(),
            downstream_errors: Counter::default(),
            downstream_updates: Counter::default(),
        }
    }
}

impl EdgeMetrics {
    /// Registers every metric under `edge_` in `registry` (the server's, prefixed `continuum`).
    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("edge");
        registry.register(
            "cache_hits",
            "Validations answered from the session cache",
            self.cache_hits.clone(),
        );
        registry.register("cache_misses", "Validations that asked the origin", self.cache_misses.clone());
        registry.register(
            "origin_errors",
            "Cache misses the origin did not answer",
            self.origin_errors.clone(),
        );
        registry.register(
            "cache_hit_age_seconds",
            "Age of the cache entries that answered",
            self.hit_age.clone(),
        );
        registry.register(
            "event_stream_connected",
            "1 while the origin's event stream is connected",
            self.stream_connected.clone(),
        );
        registry.register(
            "events_applied",
            "Events from the origin applied to the cache",
            self.events_applied.clone(),
        );
        registry.register(
            "event_stream_connects",
            "Times the event stream was opened",
            self.stream_connects.clone(),
        );
        registry.register(
            "touches_dropped",
            "Touches not forwarded: queue full",
            self.touches_dropped.clone(),
        );
        registry.register("forwarded", "Requests forwarded to the origin", self.forwarded.clone());
        registry.register("queue_length", "Updates queued for the origin", self.queue_length.clone());
        registry.register("queue_last_seq", "The seq of the last update queued", self.queue_last_seq.clone());
        registry.register("replays", "Replay batches the origin answered", self.replays.clone());
        registry.register(
            "replay_errors",
            "Replay batches that failed and are retried",
            self.replay_errors.clone(),
        );
        registry.register(
            "origin_applied",
            "Queued updates the origin applied for this edge, all lifetimes",
            self.origin_applied.clone(),
        );
        registry.register(
            "origin_refused",
            "Queued updates the origin refused for this edge, all lifetimes",
            self.origin_refused.clone(),
        );
        registry.register(
            "origin_already_held",
            "Queued updates the origin's document already had (applied before a crash, before the mark), all lifetimes",
            self.origin_already_held.clone(),
        );
        registry.register("refused_updates", "Queued updates refused at replay", self.refused.clone());
        registry.register(
            "queue_oldest_age_seconds",
            "How long the oldest update not yet answered for by the origin has waited",
            self.queue_oldest_age.clone(),
        );
        registry.register(
            "downstream_docs",
            "Documents with a downstream from the origin",
            self.downstream_docs.clone(),
        );
        registry.register(
            "downstream_connected",
            "Downstream sockets open to the origin",
            self.downstream_connected.clone(),
        );
        registry.register(
            "downstream_connects",
            "Downstream sockets opened",
            self.downstream_connects.clone(),
        );
        registry.register(
            "downstream_errors",
            "Downstream connections that failed or broke",
            self.downstream_errors.clone(),
        );
        registry.register(
            "downstream_updates",
            "Updates from the origin that changed the edge's copy",
            self.downstream_updates.clone(),
        );
    }
}
