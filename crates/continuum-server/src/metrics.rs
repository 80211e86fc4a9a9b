//! [`Metrics`]: Prometheus counters and histograms, the request middleware that feeds them, and
//! the text exposition at `/metrics`.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use continuum_sync::SyncSnapshot;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

fn latency_histogram() -> Histogram {
    // 50 µs to about 1.6 s.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// The server's metrics. Whoever calls [`crate::run()`] creates them, so the store it opens can
/// report its commits to [`Metrics::observe_commit`] before the server starts.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    sessions: Gauge,
    resident_bytes: Gauge,
    commit_batch: Histogram,
    commit_seconds: Histogram,
    sync: SyncMetricsView,
}

/// The sync engine's figures as Prometheus metrics, copied from a [`SyncSnapshot`] at scrape
/// time. The counters only move forward: each scrape adds what the engine counted since the
/// last one, under `scrape` so two concurrent scrapes do not add it twice.
#[derive(Default)]
struct SyncMetricsView {
    scrape: Mutex<()>,
    detached_for_lag: Counter,
    awareness_messages_out: Counter,
    awareness_flushes: Counter,
    updates_delivered: Counter,
    updates_persisted: Counter,
    live_docs: Gauge,
    peers: Gauge,
    outbound_queued: Gauge,
    outbound_queued_max: Gauge,
}

impl SyncMetricsView {
    fn register(&self, registry: &mut Registry) {
        let sync = registry.sub_registry_with_prefix("sync");
        let counters = [
            (
                "peers_detached_for_lag",
                "Sync peers detached because their bounded outbound queue was full; each socket was closed with 1013 so its client reconnects and resyncs by state vector",
                &self.detached_for_lag,
            ),
            (
                "awareness_messages_out",
                "Awareness messages queued for sync peers (at most one per peer per awareness tick)",
                &self.awareness_messages_out,
            ),
            (
                "awareness_flushes",
                "Awareness flushes that sent something (at most one per document per tick)",
                &self.awareness_flushes,
            ),
            (
                "updates_delivered",
                "Document update messages queued for sync peers (one per change per receiving peer)",
                &self.updates_delivered,
            ),
            ("updates_persisted", "Document changes appended to the store", &self.updates_persisted),
        ];
        for (name, help, counter) in counters {
            sync.register(name, help, counter.clone());
        }
        let gauges = [
            ("live_documents", "Continuity documents in memory", &self.live_docs),
            ("peers", "Sync peers attached to live documents", &self.peers),
            (
                "outbound_queued",
                "Messages waiting in every sync peer's outbound queue, summed",
                &self.outbound_queued,
            ),
            (
                "outbound_queued_max",
                "The longest outbound queue of any one sync peer",
                &self.outbound_queued_max,
            ),
        ];
        for (name, help, gauge) in gauges {
            sync.register(name, help, gauge.clone());
        }
    }

    fn update(&self, snapshot: &SyncSnapshot) {
        let _scrape = self.scrape.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let advance = |counter: &Counter, total: u64| counter.inc_by(total.saturating_sub(counter.get()));
        advance(&self.detached_for_lag, snapshot.detached_for_lag);
        advance(&self.awareness_messages_out, snapshot.awareness_messages_out);
        advance(&self.awareness_flushes, snapshot.awareness_flushes);
        advance(&self.updates_delivered, snapshot.updates_delivered);
        advance(&self.updates_persisted, snapshot.updates_persisted);
        let gauge = |gauge: &Gauge, value: u64| gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
        gauge(&self.live_docs, snapshot.live_docs);
        gauge(&self.peers, snapshot.peers);
        gauge(&self.outbound_queued, snapshot.outbound_queued);
        gauge(&self.outbound_queued_max, snapshot.outbound_queued_max);
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric registered.
    pub fn new() -> Self {
        Self::with(|_| {})
    }

    /// A registry with every metric registered, and those `extra` registers (the metrics of a
    /// layer beside the server, such as replication's, under the `continuum_` prefix).
    pub fn with(extra: impl FnOnce(&mut Registry)) -> Self {
        let mut registry = Registry::with_prefix("continuum");
        extra(&mut registry);
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        let latency =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register("http_request_duration_seconds", "Time to answer a request", latency.clone());
        let sessions = Gauge::default();
        registry.register("sessions", "Sessions held by the store, tombstones included", sessions.clone());
        let resident_bytes = Gauge::default();
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of the server",
            resident_bytes.clone(),
        );
        let commit_batch = Histogram::new(exponential_buckets(1.0, 2.0, 12));
        registry.register(
            "store_commit_batch_size",
            "Writes made durable by one store commit",
            commit_batch.clone(),
        );
        let commit_seconds = Histogram::new(exponential_buckets(0.000_1, 2.0, 14));
        registry.register(
            "store_commit_duration_seconds",
            "Time of one store commit",
            commit_seconds.clone(),
        );
        let sync = SyncMetricsView::default();
        sync.register(&mut registry);
        Self { registry, requests, latency, sessions, resident_bytes, commit_batch, commit_seconds, sync }
    }

    /// Records one store commit of `ops` writes taking `seconds`.
    pub fn observe_commit(&self, ops: usize, seconds: f64) {
        self.commit_batch.observe(ops as f64);
        self.commit_seconds.observe(seconds);
    }

    /// The exposition text, after refreshing the gauges read at scrape time and copying the
    /// sync engine's figures.
    pub fn render(&self, sessions: u64, sync: &SyncSnapshot) -> String {
        self.sessions.set(i64::try_from(sessions).unwrap_or(i64::MAX));
        self.sync.update(sync);
        if let Some(bytes) = resident_memory_bytes() {
            self.resident_bytes.set(bytes);
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// Resident set size from `/proc/self/statm` (Linux); `None` elsewhere.
fn resident_memory_bytes() -> Option<i64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: i64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Middleware counting every request by route and status and timing it into `metrics`.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    metrics.requests.get_or_create(&RequestLabels { method, route: route.clone(), status }).inc();
    metrics.latency.get_or_create(&RouteLabels { route }).observe(started.elapsed().as_secs_f64());
    response
}
