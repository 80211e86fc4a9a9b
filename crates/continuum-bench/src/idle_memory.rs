//! The `idle-memory` scenario: the server's RSS before and after creating many sessions that are
//! then left idle, divided by their number.

use std::time::Duration;

use super::metrics::{self, RESIDENT_MEMORY, SESSIONS};
use super::pool;
use super::progress;
use super::report::IdleMemoryReport;
use super::server_metrics::{MetricsError, read_metrics, require};
use continuum_client::{ApiClient, BearerKey, Endpoint};

/// How long to wait after the last create before reading RSS again, so that background work
/// (group commit, the allocator returning buffers) has settled.
pub const SETTLE: Duration = Duration::from_secs(2);

/// Runs the scenario: `sessions` creates, at most `connections` at a time.
pub async fn run(
    endpoint: &Endpoint,
    key: &BearerKey,
    sessions: usize,
    connections: usize,
) -> Result<IdleMemoryReport, MetricsError> {
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
