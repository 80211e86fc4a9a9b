//! The `idle-memory` scenario: the server's RSS before and after creating many sessions that are
//! then left idle, divided by their number.

use std::time::Duration;

use anyhow::{Context as _, anyhow};

use super::metrics::{self, RESIDENT_MEMORY, SESSIONS};
use super::pool;
use super::progress;
use super::report::IdleMemoryReport;
use crate::client::{ApiClient, BearerKey, Endpoint, requests};

/// How long to wait after the last create before reading RSS again, so that background work
/// (group commit, the allocator returning buffers) has settled.
pub const SETTLE: Duration = Duration::from_secs(2);

/// Runs the scenario: `sessions` creates, at most `connections` at a time.
pub async fn run(
    endpoint: &Endpoint,
    key: &BearerKey,
    sessions: usize,
    connections: usize,
) -> anyhow::Result<IdleMemoryReport> {
    let mut client = ApiClient::new(endpoint.clone(), key.clone());
    let before = read_metrics(&mut client, key).await?;
    let rss_before = require(&before, RESIDENT_MEMORY)?;
    let bar = progress::counted("idle-memory", sessions as u64);
    let created = pool::create_sessions(endpoint, key, sessions, connections, &bar).await;
    tokio::time::sleep(SETTLE).await;
    let after = read_metrics(&mut client, key).await?;
    let rss_after = require(&after, RESIDENT_MEMORY)?;
    let made = created.pool.len() as u64;
    let stats = created.recorder.stats(created.elapsed);
    Ok(IdleMemoryReport {
        scenario: "idle-memory",
        sessions: made,
        errors: stats.errors,
        errors_by_kind: stats.errors_by_kind,
        rss_before_bytes: rss_before,
        rss_after_bytes: rss_after,
        bytes_per_session: IdleMemoryReport::bytes_per_session(rss_before, rss_after, made),
        sessions_gauge_before: metrics::sample(&before, SESSIONS),
        sessions_gauge_after: metrics::sample(&after, SESSIONS),
        create_rps: made as f64 / created.elapsed.as_secs_f64().max(f64::EPSILON),
    })
}

/// The server's RSS from `/metrics` (`continuum_process_resident_memory_bytes`), in bytes.
pub async fn read_rss(endpoint: &Endpoint, key: &BearerKey) -> anyhow::Result<u64> {
    let mut client = ApiClient::new(endpoint.clone(), key.clone());
    require(&read_metrics(&mut client, key).await?, RESIDENT_MEMORY)
}

/// The server's `/metrics` text.
pub async fn read_metrics(client: &mut ApiClient, key: &BearerKey) -> anyhow::Result<String> {
    let response = client.call(requests::get("/metrics", Some(key))).await.context("cannot read /metrics")?;
    String::from_utf8(response.into_body().to_vec()).context("/metrics is not UTF-8 text")
}

fn require(text: &str, metric: &str) -> anyhow::Result<u64> {
    let value =
        metrics::sample(text, metric).ok_or_else(|| anyhow!("the server's /metrics has no {metric}"))?;
    Ok(value.max(0.0) as u64)
}
