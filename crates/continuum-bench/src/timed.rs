//! [`TimedRunner`]: the timed HTTP scenarios (`hello`, `validate`, `create`, `patch`), run in
//! turn over `--rounds` rounds and reported in the order given.
//!
//! A ratio such as validate / hello compares two scenarios measured one after the other. On a
//! shared machine the available CPU moves over seconds to minutes, so one scenario can fall in a
//! slow stretch and the other not. With `--rounds N`, scenarios given next to each other take
//! turns: each runs N times for `duration / N` (after its own warm-up) and its figures are
//! summed, so a slow stretch is spread over all of them.

use std::io::Write;
use std::sync::Arc;

use super::options::BenchOptions;
use super::report::{self, LoadReport};
use super::scenario::Scenario;
use super::stats::Recorder;
use super::workload::{SessionPool, Workload};
use super::{duration, load, pool, progress};
use crate::error::BenchError;
use continuum_client::{BearerKey, Endpoint};

/// Runs groups of timed scenarios and prints their lines, keeping what later groups need: the
/// session pool (made once, by the first scenario that needs it) and `hello`'s rate.
pub struct TimedRunner<'a> {
    options: &'a BenchOptions,
    endpoint: &'a Endpoint,
    key: Option<&'a BearerKey>,
    pool: Option<Arc<SessionPool>>,
    hello_rps: Option<f64>,
    header_printed: bool,
}

impl<'a> TimedRunner<'a> {
    /// A runner for `options` against `endpoint`; `key` must be there if a scenario needs one.
    pub fn new(options: &'a BenchOptions, endpoint: &'a Endpoint, key: Option<&'a BearerKey>) -> Self {
        Self { options, endpoint, key, pool: None, hello_rps: None, header_printed: false }
    }

    /// Runs `scenarios` (all timed) in turn for `--rounds` rounds, then prints one line (or JSON
    /// object) each, in the order given.
    pub async fn run(&mut self, out: &mut impl Write, scenarios: &[Scenario]) -> Result<(), BenchError> {
        if scenarios.is_empty() {
            return Ok(());
        }
        let rounds = u32::from(self.options.rounds);
        let window = load::Window { warmup: self.options.warmup, duration: self.options.duration / rounds };
        let mut totals: Vec<Recorder> = scenarios.iter().map(|_| Recorder::new()).collect();
        for _ in 0..rounds {
            for (&scenario, total) in scenarios.iter().zip(&mut totals) {
                let workloads = self.workloads(scenario).await?;
                let bar = progress::timed(scenario.name(), window.warmup + window.duration);
                total.merge(&load::run_timed(self.endpoint, workloads, window, &bar).await);
            }
        }
        for (&scenario, total) in scenarios.iter().zip(&totals) {
            let stats = total.stats(window.duration * rounds);
            if scenario == Scenario::Hello {
                self.hello_rps = Some(stats.rps);
            }
            let report = LoadReport {
                scenario: scenario.name(),
                connections: usize::from(self.options.connections),
                warmup_secs: window.warmup.as_secs_f64(),
                relative_to_hello: self.hello_rps.filter(|rps| *rps > 0.0).map(|hello| stats.rps / hello),
                stats,
            };
            self.print(out, &report)?;
        }
        Ok(())
    }

    /// One workload per connection for `scenario`, making the pool first if it needs one.
    async fn workloads(&mut self, scenario: Scenario) -> Result<Vec<Workload>, BenchError> {
        let connections = usize::from(self.options.connections);
        let sessions = match (&self.pool, scenario.needs_pool()) {
            (Some(pool), _) => Arc::clone(pool),
            (None, true) => {
                let key = self.key.expect("pool scenarios need a key, resolved by the caller");
                let made =
                    make_pool(self.endpoint, key, self.options.sessions_for(scenario), connections).await?;
                self.pool = Some(Arc::clone(&made));
                made
            }
            (None, false) => Arc::new(SessionPool::default()),
        };
        let key = self.key.cloned();
        Ok((0..connections)
            .map(|worker| Workload::new(scenario, key.clone(), Arc::clone(&sessions), worker, connections))
            .collect())
    }

    fn print(&mut self, out: &mut impl Write, report: &LoadReport) -> Result<(), BenchError> {
        if self.options.json {
            let json = serde_json::to_string(report).map_err(BenchError::Json)?;
            writeln!(out, "{json}").map_err(BenchError::Output)?;
            return out.flush().map_err(BenchError::Output);
        }
        self.print_row(out, report).map_err(BenchError::Output)
    }

    /// The table's row for `report`, after its header when it is the first.
    fn print_row(&mut self, out: &mut impl Write, report: &LoadReport) -> std::io::Result<()> {
        if !self.header_printed {
            let rounds = match self.options.rounds {
                1 => String::new(),
                n => format!(", in {n} rounds"),
            };
            writeln!(
                out,
                "continuum bench: {}, {} connections, {} per scenario after {} warm-up{rounds}",
                self.endpoint,
                self.options.connections,
                duration::format_duration(self.options.duration),
                duration::format_duration(self.options.warmup),
            )?;
            writeln!(out, "{}", report::table_header())?;
            self.header_printed = true;
        }
        writeln!(out, "{}", report::table_row(report))?;
        out.flush()?;
        Ok(())
    }
}

/// Creates the pool for `validate` and `patch`; fails when not a single session could be made.
async fn make_pool(
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
