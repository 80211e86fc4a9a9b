//! The fault-free measurements of a strategy: validate and patch throughput and p99 under a
//! closed loop, the HTTP bytes per request, and memory per session.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use continuum_client::{BearerKey, requests};
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::json;

use super::caller::{Caller, Route};

/// The longest latency recorded, µs (a minute: longer is recorded as a minute).
const MAX_LATENCY_US: u64 = 60_000_000;

/// An empty latency histogram, 1 µs to [`MAX_LATENCY_US`] at 3 significant figures.
fn latencies() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("the histogram bounds are valid")
}

/// One closed-loop measurement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Throughput {
    /// Answered requests per second (2xx only).
    pub per_sec: f64,
    /// 99th percentile latency of answered requests, ms.
    pub p99_ms: f64,
    /// Requests that failed.
    pub errors: u64,
    /// HTTP bytes (request and answer) per request, between client and node or gateway.
    pub bytes_per_request: f64,
    /// Bytes between nodes (replication) or between nodes and their store per request, over
    /// the same measurement.
    pub backend_bytes_per_request: f64,
}

/// What a phase drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// `POST /v1/sessions/validate`.
    Validate,
    /// `PATCH /v1/sessions/{sid}/attributes` without `If-Match`.
    Patch,
}

/// `connections` loops, each over its own session and connections, for `duration`.
pub async fn measure(
    routes: &Arc<Vec<Route>>,
    key: &BearerKey,
    sealed: bool,
    phase: Phase,
    connections: usize,
    duration: Duration,
) -> Throughput {
    let bytes = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..connections {
        let mut caller = Caller::new(Arc::clone(routes), Duration::from_secs(5), Arc::clone(&bytes));
        let key = key.clone();
        tasks.spawn(async move {
            let mut histogram = latencies();
            let route = worker % caller.routes().len();
            let ask = continuum_client::CreateSession {
                principal: Some(format!("perf{worker}")),
                sealed: sealed && phase == Phase::Validate,
                ..Default::default()
            };
            let Ok(created) = caller.send(route, requests::create_session(&key, &ask)).await else {
                return (histogram, 1u64);
            };
            let body: serde_json::Value = serde_json::from_slice(created.body()).unwrap_or_default();
            let (Some(token), Some(sid)) = (body["token"].as_str(), body["session"]["sid"].as_str()) else {
                return (histogram, 1);
            };
            let (token, sid) = (token.to_owned(), sid.to_owned());
            let (mut errors, mut n) = (0, 0u64);
            let end = Instant::now() + duration;
            while Instant::now() < end {
                n += 1;
                let request = match phase {
                    Phase::Validate => requests::validate(&key, &token),
                    Phase::Patch => requests::patch_attributes(&key, &sid, &json!({ "n": n }), None),
                };
                let began = Instant::now();
                match caller.send(route, request).await {
                    Ok(response) if response.status().is_success() => {
                        let micros = u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX);
                        histogram.saturating_record(micros.clamp(1, MAX_LATENCY_US));
                    }
                    _ => errors += 1,
                }
            }
            (histogram, errors)
        });
    }
    let bytes_before = bytes.load(Ordering::Relaxed);
    let mut merged = latencies();
    let mut errors = 0;
    while let Some(joined) = tasks.join_next().await {
        if let Ok((histogram, failed)) = joined {
            merged.add(&histogram).expect("histograms of the same precision merge");
            errors += failed;
        }
    }
    let answered = merged.len();
    let total = answered + errors;
    Throughput {
        per_sec: answered as f64 / duration.as_secs_f64(),
        p99_ms: merged.value_at_quantile(0.99) as f64 / 1_000.0,
        errors,
        bytes_per_request: (bytes.load(Ordering::Relaxed) - bytes_before) as f64 / total.max(1) as f64,
        backend_bytes_per_request: 0.0,
    }
}
