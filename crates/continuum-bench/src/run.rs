//! [`run`]: one bench run, scenario after scenario, each report written as it is done.

use serde::Serialize;

use continuum_client::{BearerKey, Endpoint};

use crate::error::BenchError;
use crate::options::BenchOptions;
use crate::preflight::{ensure_loopback, preflight};
use crate::scenario::Scenario;
use crate::sync::{self, SyncError};
use crate::timed::TimedRunner;
use crate::{idle_memory, load, report};

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
