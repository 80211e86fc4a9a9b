//! `continuum bench`: a closed-loop load generator in the spirit of wrk and redis-benchmark.
//!
//! Each of `--connections` tasks owns one keep-alive HTTP/1 connection and sends its next request
//! as soon as the previous answer is in. Latencies go into one HDR histogram per connection,
//! merged when the scenario ends. Runs are bounded: `--duration` (plus `--warmup` and at most
//! [`load::DRAIN`] for requests in flight) per timed scenario, `--sessions` creates for the pool
//! and for `idle-memory`, and only loopback servers are accepted.
//!
//! The continuity-document scenarios ([`sync`]) drive y-websocket sockets on `/v1/sync` instead:
//! durable updates on one document, fan-out to many readers, reconnect deltas and memory per open
//! document, each bounded by its counts and timeouts.
//!
//! # Layout
//! - [`args`]: the command line, [`BenchArgs`].
//! - [`scenario`]: [`Scenario`], what a run measures.
//! - [`duration`]: `10s` / `1m30s` parsing.
//! - [`workload`]: the request a scenario sends next, and the [`SessionPool`].
//! - [`caller`]: one connection of the generator, reconnecting as needed.
//! - [`load`]: the timed closed loop.
//! - [`timed`]: the timed scenarios of one run, in turn over `--rounds`, and their lines.
//! - [`pool`]: creating N sessions with bounded concurrency.
//! - [`idle_memory`]: RSS per idle session, from `/metrics`.
//! - [`metrics`]: reading a sample from Prometheus text.
//! - [`stats`]: per-connection [`Recorder`]s and the merged [`LoadStats`].
//! - [`report`]: the table, the idle-memory line and the JSON objects.
//! - [`progress`]: progress bars on stderr when it is a terminal.
//! - [`sync`]: the continuity-document scenarios over `/v1/sync` WebSockets.

pub mod args;
pub mod caller;
pub mod duration;
pub mod idle_memory;
pub mod load;
pub mod metrics;
pub mod pool;
pub mod progress;
pub mod report;
pub mod scenario;
pub mod stats;
pub mod sync;
pub mod timed;
pub mod workload;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use serde::Serialize;

pub use args::BenchArgs;
pub use scenario::Scenario;
pub use stats::{LoadStats, Recorder};
pub use workload::{SessionPool, Workload};

use crate::client::{ApiClient, BearerKey, Endpoint, requests};
use timed::TimedRunner;

/// The first address in `addrs` that is not a loopback address.
pub fn first_non_loopback(addrs: &[SocketAddr]) -> Option<SocketAddr> {
    addrs.iter().copied().find(|addr| !addr.ip().is_loopback())
}

/// Refuses an endpoint that resolves to anything but loopback addresses: the bench is for
/// measuring a server on this machine, never for sending load elsewhere.
async fn ensure_loopback(endpoint: &Endpoint) -> anyhow::Result<()> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((endpoint.host(), endpoint.port()))
        .await
        .with_context(|| format!("cannot resolve {endpoint}"))?
        .collect();
    if addrs.is_empty() {
        bail!("{endpoint} resolves to no address");
    }
    if let Some(addr) = first_non_loopback(&addrs) {
        bail!("the bench only targets loopback addresses, and {endpoint} resolves to {addr}");
    }
    Ok(())
}

/// Checks the server is ready and, when a key is needed, that it accepts the key — with one
/// read-only request, so that a wrong key fails in a second instead of after a whole pool.
async fn preflight(endpoint: &Endpoint, key: Option<&BearerKey>) -> anyhow::Result<()> {
    let Some(key) = key else {
        let mut connection = crate::client::Connection::open(endpoint).await?;
        let response = connection.send(requests::get("/readyz", None)).await?;
        if !response.status().is_success() {
            bail!("{endpoint} is not ready: /readyz answered {}", response.status());
        }
        return Ok(());
    };
    let mut client = ApiClient::new(endpoint.clone(), key.clone());
    client.call(requests::get("/readyz", None)).await.with_context(|| format!("{endpoint} is not ready"))?;
    client.list("bench-preflight").await.context("the server refuses the API key")?;
    Ok(())
}

/// Runs `continuum bench`.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let endpoint = crate::client::Endpoint::parse(&args.url)?;
    ensure_loopback(&endpoint).await?;
    let key = if args.scenarios.iter().any(|scenario| scenario.needs_key()) {
        // In static memory: every request carries it (see `workload::static_bytes`).
        Some(args.key.bearer()?.leaked())
    } else {
        None
    };
    preflight(&endpoint, key.as_ref()).await?;
    let connections = usize::from(args.connections);
    let mut out = std::io::stdout().lock();
    let mut timed = TimedRunner::new(&args, &endpoint, key.as_ref());
    // Timed scenarios given next to each other run as one group (in turn, over `--rounds`).
    let mut group = Vec::new();
    for &scenario in &args.scenarios {
        if scenario.is_timed() {
            group.push(scenario);
            continue;
        }
        timed.run(&mut out, &std::mem::take(&mut group)).await?;
        let key = key.as_ref().expect("idle-memory and document scenarios need a key, resolved above");
        if scenario == Scenario::IdleMemory {
            let report = idle_memory::run(&endpoint, key, args.sessions_for(scenario), connections).await?;
            emit(&mut out, args.json, &report, report::idle_memory_line)?;
        } else {
            run_sync(&mut out, &args, scenario, &endpoint, key).await?;
        }
    }
    timed.run(&mut out, &group).await
}

/// Prints `report` as one JSON object or as the line `line` makes of it.
fn emit<R: Serialize>(
    out: &mut impl std::io::Write,
    json: bool,
    report: &R,
    line: fn(&R) -> String,
) -> anyhow::Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string(report)?)?;
    } else {
        writeln!(out, "{}", line(report))?;
    }
    out.flush()?;
    Ok(())
}

/// Runs one continuity-document scenario and prints its report.
async fn run_sync(
    out: &mut impl std::io::Write,
    args: &BenchArgs,
    scenario: Scenario,
    endpoint: &Endpoint,
    key: &BearerKey,
) -> anyhow::Result<()> {
    let connections = usize::from(args.connections);
    let context = || format!("the {scenario} scenario failed");
    match scenario {
        Scenario::DocUpdates => {
            let config = sync::doc_updates::DocUpdatesConfig {
                writers: connections,
                pipeline: usize::from(args.pipeline),
                window: load::Window { warmup: args.warmup, duration: args.duration },
            };
            if connections > sync::doc_updates::MAX_WRITERS {
                tracing::warn!(
                    asked = connections,
                    max = sync::doc_updates::MAX_WRITERS,
                    "doc-updates caps its writers"
                );
            }
            let report = sync::doc_updates::run(endpoint, key, config).await.with_context(context)?;
            emit(out, args.json, &report, sync::report::doc_updates_line)
        }
        Scenario::Fanout => {
            let config = sync::fanout::FanoutConfig {
                readers: args.sockets as usize,
                updates: u64::from(args.updates),
                interval: args.interval,
                concurrency: connections,
            };
            let report = sync::fanout::run(endpoint, key, config).await.with_context(context)?;
            emit(out, args.json, &report, sync::report::fanout_line)
        }
        Scenario::Reconnect => {
            let config = sync::reconnect::ReconnectConfig {
                updates: u64::from(args.updates),
                missed: args.missed.iter().map(|&missed| u64::from(missed)).collect(),
            };
            let report = sync::reconnect::run(endpoint, key, &config).await.with_context(context)?;
            emit(out, args.json, &report, sync::report::reconnect_table)
        }
        Scenario::DocMemory => {
            let documents = args.sessions_for(scenario);
            let report =
                sync::doc_memory::run(endpoint, key, documents, connections).await.with_context(context)?;
            emit(out, args.json, &report, sync::report::doc_memory_line)
        }
        Scenario::Burst => {
            let config = sync::burst::BurstConfig {
                subscribers: args.sockets as usize,
                updates: u64::from(args.updates),
                concurrency: connections,
                server_pid: args.server_pid,
            };
            let report = sync::burst::run(endpoint, key, config).await.with_context(context)?;
            emit(out, args.json, &report, sync::burst_report::burst_line)
        }
        other => unreachable!("{other} is not a document scenario"),
    }
}

/// Creates the pool for `validate` and `patch`; fails when not a single session could be made.
pub(crate) async fn make_pool(
    endpoint: &Endpoint,
    key: &BearerKey,
    count: usize,
    connections: usize,
) -> anyhow::Result<Arc<SessionPool>> {
    let bar = progress::counted("pool", count as u64);
    let created = pool::create_sessions(endpoint, key, count, connections, &bar).await;
    let stats = created.recorder.stats(created.elapsed);
    if created.pool.is_empty() {
        bail!(
            "could not create any pool session: errors {}",
            report::format_errors(stats.errors, &stats.errors_by_kind)
        );
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
