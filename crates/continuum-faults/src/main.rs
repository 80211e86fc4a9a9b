//! `continuum-faults`: run the strategies under faults (`run`), or check a recorded history
//! (`check`). `bash bench/strategies.sh` calls `run` with the bounded profile.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use continuum_faults::check::{CheckOptions, ViolationKind, check};
use continuum_faults::history::read_history;
use continuum_faults::report::table;
use continuum_faults::runner::{Profile, RunConfig, Strategy, run_strategy};

/// The fault suite of Continuum's four cluster strategies.
#[derive(Debug, Parser)]
#[command(name = "continuum-faults")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start each strategy, measure it, drive the workload through the faults, check the
    /// history; exits 1 on any violation (or, with --expect, unless one of those was found).
    Run {
        /// Strategies, comma-separated [default: all]
        #[arg(long, value_delimiter = ',')]
        strategies: Vec<Strategy>,
        /// The long profile: longer faults, more clients, longer measurements
        #[arg(long)]
        long: bool,
        /// Seeds the workload and which nodes the faults hit; repeatable for several runs
        #[arg(long, default_value = "1", value_delimiter = ',')]
        seeds: Vec<u64>,
        /// Output directory: per strategy its logs, history.jsonl and summary.json; report.md
        #[arg(long, default_value = "target/faults")]
        out: PathBuf,
        /// The continuum binary
        #[arg(long, default_value = "target/debug/continuum")]
        bin: PathBuf,
        /// Run every node in this broken mode (tests only: needs a binary with fault-modes)
        #[arg(long)]
        fault_mode: Option<String>,
        /// Skip the throughput and memory measurements
        #[arg(long)]
        no_perf: bool,
        /// Fail also on the violations a strategy lists as known open bugs
        #[arg(long)]
        strict: bool,
        /// For a broken mode: the run passes only if it finds at least one of these violation
        /// kinds, comma-separated
        #[arg(long, value_delimiter = ',')]
        expect: Vec<String>,
    },
    /// Check a recorded history; exits 1 on any violation.
    Check {
        /// The history (JSON Lines)
        history: PathBuf,
        /// Grace after an acknowledged revocation, ms
        #[arg(long, default_value_t = 0)]
        revocation_grace_ms: u64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CONTINUUM_FAULTS_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("continuum-faults: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check { history, revocation_grace_ms } => {
            let file = std::fs::File::open(&history)
                .with_context(|| format!("cannot open {}", history.display()))?;
            let records = read_history(std::io::BufReader::new(file))?;
            let report = check(&records, &CheckOptions { revocation_grace_us: revocation_grace_ms * 1_000 });
            for violation in &report.violations {
                println!("{violation}");
            }
            println!("{} operations, {} violations", report.counts.operations, report.violations.len());
            Ok(if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Run { strategies, long, seeds, out, bin, fault_mode, no_perf, strict, expect } => {
            anyhow::ensure!(
                bin.exists(),
                "no continuum binary at {} (build it, or pass --bin)",
                bin.display()
            );
            let strategies = if strategies.is_empty() { Strategy::ALL.to_vec() } else { strategies };
            let profile = if long { Profile::long() } else { Profile::quick() };
            let mut summaries = Vec::new();
            let mut found = std::collections::BTreeSet::new();
            for seed in seeds {
                for strategy in &strategies {
                    let config = RunConfig {
                        bin: bin.clone(),
                        out: out.join(format!("seed-{seed}")),
                        profile,
                        seed,
                        fault_mode: fault_mode.clone(),
                        skip_perf: no_perf,
                    };
                    let summary = run_strategy(*strategy, &config).await?;
                    println!("{}", table::line(&summary));
                    for violation in summary.check.violations.iter().take(5) {
                        println!("    {violation}");
                    }
                    let excused = |kind: &ViolationKind| {
                        strategy.tolerated().contains(kind)
                            || (!strict && strategy.known_open().contains(kind))
                    };
                    // With --expect (a broken mode), every kind found counts.
                    let counted = |kind: &ViolationKind| !expect.is_empty() || !excused(kind);
                    found.extend(summary.check.kinds().into_iter().filter(counted));
                    summaries.push(summary);
                }
            }
            std::fs::write(out.join("report.md"), table::markdown(&summaries))?;
            std::fs::write(out.join("summaries.json"), serde_json::to_vec_pretty(&summaries)?)?;
            continuum_faults::report::chart::draw(&summaries, &out)?;
            if expect.is_empty() {
                return Ok(if found.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE });
            }
            let names: Vec<&str> = found.iter().map(|kind: &ViolationKind| kind.name()).collect();
            let caught: Vec<&String> = expect.iter().filter(|kind| names.contains(&kind.as_str())).collect();
            if caught.is_empty() {
                println!("expected one of {} but found {names:?}", expect.join(", "));
                Ok(ExitCode::FAILURE)
            } else {
                println!(
                    "caught, as expected: {} (all found: {})",
                    caught.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
                    names.join(", ")
                );
                Ok(ExitCode::SUCCESS)
            }
        }
    }
}
