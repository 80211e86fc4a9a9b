//! `continuum-bench`: the load generator behind `continuum bench`, a closed-loop generator in the
//! spirit of wrk and redis-benchmark.
//!
//! Each of `connections` tasks owns one keep-alive HTTP/1 connection and sends its next request
//! as soon as the previous answer is in. Latencies go into one HDR histogram per connection,
//! merged when the scenario ends. Runs are bounded: `duration` (plus `warmup` and at most
//! [`load::DRAIN`] for requests in flight) per timed scenario, `sessions` creates for the pool
//! and for `idle-memory`, every option within [`BenchOptions::check`]'s bounds, and only
//! loopback servers are accepted.
//!
//! The continuity-document scenarios ([`sync`]) drive y-websocket sockets on `/v1/sync` instead:
//! durable updates on one document, fan-out to many readers, reconnect deltas and memory per open
//! document, each bounded by its counts and timeouts.
//!
//! # Layout
//! - [`options`]: [`BenchOptions`], what a run measures, and its bounds.
//! - [`scenario`]: [`Scenario`], one kind of load (a `clap::ValueEnum` with the `clap` feature).
//! - [`error`]: [`BenchError`], why a run stopped.
//! - [`duration`]: `10s` / `1m30s` parsing and printing.
//! - [`workload`]: the request a scenario sends next, and the [`SessionPool`].
//! - [`caller`]: one connection of the generator, reconnecting as needed.
//! - [`load`]: the timed closed loop.
//! - [`timed`]: the timed scenarios of one run, in turn over `rounds`, and their lines.
//! - [`pool`]: creating N sessions with bounded concurrency.
//! - [`idle_memory`]: RSS per idle session, from `/metrics`.
//! - [`metrics`]: reading a sample from Prometheus text.
//! - [`server_metrics`]: reading the server's `/metrics` over the backend plane.
//! - [`stats`]: per-connection [`Recorder`]s and the merged [`LoadStats`].
//! - [`report`]: the table, the idle-memory line and the JSON objects.
//! - [`progress`]: progress bars on stderr when it is a terminal.
//! - [`sync`]: the continuity-document scenarios over `/v1/sync` WebSockets.
//!
//! # Main flow
//! [`run`] checks the options, refuses a server that is not on loopback, asks `/readyz` (and,
//! when a scenario needs the key, one read-only call that the key is accepted), then runs the
//! scenarios in order, writing each report to `out` as it is done: timed scenarios given next to
//! each other as one [`timed::TimedRunner`] group, the others one at a time.

pub mod caller;
pub mod duration;
pub mod error;
pub mod idle_memory;
pub mod load;
pub mod metrics;
pub mod options;
pub mod pool;
pub mod progress;
pub mod report;
pub mod scenario;
pub mod server_metrics;
pub mod stats;
pub mod sync;
pub mod timed;
pub mod workload;

use std::net::SocketAddr;
use std::sync::Arc;

use serde::Serialize;

pub use continuum_client::BearerKey;
pub use error::BenchError;
pub use options::{BenchOptions, OptionsError};
pub use scenario::Scenario;
pub use stats::{LoadStats, Recorder};
pub use workload::{SessionPool, Workload};

use continuum_client::{ApiClient, Connection, Endpoint, requests};
use sync::SyncError;
use timed::TimedRunner;

/// The first address in `addrs` that is not a loopback address.
pub fn first_non_loopback(addrs: &[SocketAddr]) -> Option<SocketAddr> {
    addrs.iter().copied().find(|addr| !addr.ip().is_loopback())
}

/// Refuses an endpoint that resolves to anything but loopback addresses: the bench is for
/// measuring a server on this machine, never for sending load elsewhere.
async fn ensure_loopback(endpoint: &Endpoint) -> Result<(), BenchError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((endpoint.host(), endpoint.port()))
        .await
        .map_err(|source| BenchError::Resolve { endpoint: endpoint.to_string(), source })?
        .collect();
    if addrs.is_empty() {
        return Err(BenchError::NoAddress { endpoint: endpoint.to_string() });
    }
    if let Some(addr) = first_non_loopback(&addrs) {
        return Err(BenchError::NotLoopback { endpoint: endpoint.to_string(), addr });
    }
    Ok(())
}

/// Checks the server is ready and, when a key is needed, that it accepts the key — with one
/// read-only request, so that a wrong key fails in a second instead of after a whole pool.
async fn preflight(endpoint: &Endpoint, key: Option<&BearerKey>) -> Result<(), BenchError> {
    let not_ready = |source| BenchError::NotReady { endpoint: endpoint.to_string(), source };
    let Some(key) = key else {
        let mut connection = Connection::open(endpoint).await.map_err(not_ready)?;
        let response = connection.send(requests::get("/readyz", None)).await.map_err(not_ready)?;
        if !response.status().is_success() {
            return Err(BenchError::Unready { endpoint: endpoint.to_string(), status: response.status() });
        }
        return Ok(());
    };
    let mut client = ApiClient::new(endpoint.clone(), key.clone());
    client.call(requests::get("/readyz", None)).await.map_err(not_ready)?;
    client.list("bench-preflight").await.map_err(BenchError::KeyRefused)?;
    Ok(())
}

/// Runs the scenarios of `options` against the server at `url` (a loopback `http://` address),
/// presenting `key` to the backend plane, and writes one line (or JSON object) per scenario to
/// `out` as each is done. `key` may be `None` when only `hello` runs.
pub async fn run(
    url: &str,
    key: Option<&BearerKey>,
    options: &BenchOptions,
    out: &mut impl std::io::Write,
) -> Result<(), BenchError> {
    options.check()?;
    let endpoint = Endpoint::parse(url).map_err(BenchError::Url)?;
    ensure_loopback(&endpoint).await?;
    let key = match (options.scenarios.iter().find(|scenario| scenario.needs_key()), key) {
        // In static memory: every request carries it (see `workload::static_bytes`).
        (Some(_), Some(key)) => Some(key.leaked()),
        (Some(&scenario), None) => return Err(BenchError::NoKey { scenario }),
        (None, _) => None,
    };
    preflight(&endpoint, key.as_ref()).await?;
    let connections = usize::from(options.connections);
    let mut timed = TimedRunner::new(options, &endpoint, key.as_ref());
    // Timed scenarios given next to each other run as one group (in turn, over `--rounds`).
    let mut group = Vec::new();
    for &scenario in &options.scenarios {
        if scenario.is_timed() {
            group.push(scenario);
            continue;
        }
        timed.run(out, &std::mem::take(&mut group)).await?;
        let key = key.as_ref().expect("idle-memory and document scenarios need a key, resolved above");
        if scenario == Scenario::IdleMemory {
            let report =
                idle_memory::run(&endpoint, key, options.sessions_for(scenario), connections).await?;
            emit(out, options.json, &report, report::idle_memory_line)?;
        } else {
            let report = run_sync(options, scenario, &endpoint, key)
                .await
                .map_err(|source| BenchError::Scenario { scenario, source })?;
            report.emit(out, options.json)?;
        }
    }
    timed.run(out, &group).await
}

/// Prints `report` as one JSON object or as the line `line` makes of it.
fn emit<R: Serialize>(
    out: &mut impl std::io::Write,
    json: bool,
    report: &R,
    line: fn(&R) -> String,
) -> Result<(), BenchError> {
    let text = if json { serde_json::to_string(report).map_err(BenchError::Json)? } else { line(report) };
    writeln!(out, "{text}").and_then(|()| out.flush()).map_err(BenchError::Output)
}

/// The report of one continuity-document scenario.
enum SyncReport {
    DocUpdates(sync::report::DocUpdatesReport),
    Fanout(sync::report::FanoutReport),
    Reconnect(sync::report::ReconnectReport),
    DocMemory(sync::report::DocMemoryReport),
    Burst(sync::burst_report::BurstReport),
}

impl SyncReport {
    /// Prints it as one JSON object or as its line (a small table for `reconnect`).
    fn emit(&self, out: &mut impl std::io::Write, json: bool) -> Result<(), BenchError> {
        match self {
            Self::DocUpdates(report) => emit(out, json, report, sync::report::doc_updates_line),
            Self::Fanout(report) => emit(out, json, report, sync::report::fanout_line),
            Self::Reconnect(report) => emit(out, json, report, sync::report::reconnect_table),
            Self::DocMemory(report) => emit(out, json, report, sync::report::doc_memory_line),
            Self::Burst(report) => emit(out, json, report, sync::burst_report::burst_line),
        }
    }
}

/// Runs one continuity-document scenario.
async fn run_sync(
    options: &BenchOptions,
    scenario: Scenario,
    endpoint: &Endpoint,
    key: &BearerKey,
) -> Result<SyncReport, SyncError> {
    let connections = usize::from(options.connections);
    Ok(match scenario {
        Scenario::DocUpdates => {
            let config = sync::doc_updates::DocUpdatesConfig {
                writers: connections,
                pipeline: usize::from(options.pipeline),
                window: load::Window { warmup: options.warmup, duration: options.duration },
            };
            if connections > sync::doc_updates::MAX_WRITERS {
                tracing::warn!(
                    asked = connections,
                    max = sync::doc_updates::MAX_WRITERS,
                    "doc-updates caps its writers"
                );
            }
            SyncReport::DocUpdates(sync::doc_updates::run(endpoint, key, config).await?)
        }
        Scenario::Fanout => {
            let config = sync::fanout::FanoutConfig {
                readers: options.sockets as usize,
                updates: u64::from(options.updates),
                interval: options.interval,
                concurrency: connections,
            };
            SyncReport::Fanout(sync::fanout::run(endpoint, key, config).await?)
        }
        Scenario::Reconnect => {
            let config = sync::reconnect::ReconnectConfig {
                updates: u64::from(options.updates),
                missed: options.missed.iter().map(|&missed| u64::from(missed)).collect(),
            };
            SyncReport::Reconnect(sync::reconnect::run(endpoint, key, &config).await?)
        }
        Scenario::DocMemory => {
            let documents = options.sessions_for(scenario);
            SyncReport::DocMemory(sync::doc_memory::run(endpoint, key, documents, connections).await?)
        }
        Scenario::Burst => {
            let config = sync::burst::BurstConfig {
                subscribers: options.sockets as usize,
                updates: u64::from(options.updates),
                concurrency: connections,
                server_pid: options.server_pid,
            };
            SyncReport::Burst(sync::burst::run(endpoint, key, config).await?)
        }
        other => unreachable!("{other} is not a document scenario"),
    })
}

/// Creates the pool for `validate` and `patch`; fails when not a single session could be made.
pub(crate) async fn make_pool(
    endpoint: &Endpoint,
    key: &BearerKey,
    count: usize,
    connections: usize,
) -> Result<Arc<SessionPool>, BenchError> {
    let bar = progress::counted("pool", count as u64);
    let created = pool::create_sessions(endpoint, key, count, connections, &bar).await;
    let stats = created.recorder.stats(created.elapsed);
    if created.pool.is_empty() {
        return Err(BenchError::NoPool {
            errors: report::format_errors(stats.errors, &stats.errors_by_kind),
        });
    }
    if stats.errors > 0 {
        tracing::warn!(
            made = created.pool.len(),
            asked = count,
            errors = %report::format_errors(stats.errors, &stats.errors_by_kind),
            "the pool is smaller than asked"
        );
    }
    Ok(Arc::new(created.pool))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_pass() {
        let loopback: Vec<SocketAddr> = vec!["127.0.0.1:1".parse().unwrap(), "[::1]:1".parse().unwrap()];
        assert_eq!(first_non_loopback(&loopback), None);
        let mixed: Vec<SocketAddr> = vec!["127.0.0.2:1".parse().unwrap(), "10.0.0.1:1".parse().unwrap()];
        assert_eq!(first_non_loopback(&mixed), Some("10.0.0.1:1".parse().unwrap()));
    }
}
