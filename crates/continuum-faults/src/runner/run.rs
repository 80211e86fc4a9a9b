//! [`run_strategy`]: one strategy from start to verdict — deploy, measure, drive the workload
//! through the fault schedule, heal, read the end state back, check and summarize.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use continuum_client::{BearerKey, CreateSession, requests};
use tokio::task::JoinSet;

use super::deploy::{DeployConfig, DeployError, Deployment};
use super::perf::{Phase, measure};
use super::profile::Profile;
use super::recorder::Recorder;
use super::schedule::schedule;
use super::strategy::Strategy;
use super::workload::{Client, ClientEnd, WorkloadConfig};
use crate::check::{CheckOptions, check};
use crate::history::{HistoryError, write_record};
use crate::report::{Resources, StrategySummary, summarize};

/// What a run needs beyond the strategy.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// The `continuum` binary.
    pub bin: PathBuf,
    /// Where each strategy's data, logs and history go (`<out>/<strategy>/`).
    pub out: PathBuf,
    /// Sizes and durations.
    pub profile: Profile,
    /// Seeds the workload's choices and which nodes the faults hit.
    pub seed: u64,
    /// A broken mode for every node (`--fault-mode`), to show the checker catches it.
    pub fault_mode: Option<String>,
    /// Skip the throughput and memory measurements.
    pub skip_perf: bool,
}

/// Why a run could not be carried out (a violation is not an error: it is in the summary).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The strategy's processes could not be started or controlled.
    #[error("cannot run {strategy}")]
    Deploy {
        /// Which strategy.
        strategy: Strategy,
        /// The cause.
        #[source]
        source: DeployError,
    },
    /// The history could not be written.
    #[error("cannot write the history")]
    History(#[from] HistoryError),
    /// The output directory could not be written.
    #[error("cannot write to the output directory")]
    Io(#[from] std::io::Error),
}

/// Runs `strategy` once.
pub async fn run_strategy(strategy: Strategy, config: &RunConfig) -> Result<StrategySummary, RunError> {
    let dir = config.out.join(strategy.name());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let deploy_error = |source| RunError::Deploy { strategy, source };
    let deploy_config = DeployConfig {
        bin: config.bin.clone(),
        dir: dir.clone(),
        fault_mode: config.fault_mode.clone(),
        clients: config.profile.session_clients + config.profile.doc_clients,
    };
    let mut deployment = Deployment::start(strategy, &deploy_config).await.map_err(deploy_error)?;
    let resources = match config.skip_perf {
        true => Resources::default(),
        false => measure_resources(strategy, &deployment, &config.profile).await,
    };

    let recorder = Recorder::new();
    let stop = Arc::new(AtomicBool::new(false));
    let workload = WorkloadConfig {
        key: deployment.key().clone(),
        sealed: strategy.sealed(),
        think: config.profile.think,
        stop: Arc::clone(&stop),
        recorder: recorder.clone(),
    };
    let wire = Arc::new(AtomicU64::new(0));
    let mut clients = JoinSet::new();
    let total = config.profile.session_clients + config.profile.doc_clients;
    for id in 0..total {
        let caller = deployment.caller(id, config.profile.timeout, Arc::clone(&wire));
        let client = Client::new(id as u32, workload.clone(), caller, config.seed);
        match id < config.profile.session_clients {
            true => clients.spawn(client.run_sessions()),
            false => clients.spawn(client.run_docs()),
        };
    }
    let plan = schedule(strategy, config.profile.pace, config.seed);
    for step in &plan.steps {
        tokio::time::sleep_until(tokio::time::Instant::from_std(recorder.began() + step.at)).await;
        tracing::info!(%strategy, at = ?step.at, action = ?step.action, "fault step");
        deployment.apply(step.action).await.map_err(deploy_error)?;
    }
    tokio::time::sleep_until(tokio::time::Instant::from_std(recorder.began() + plan.end)).await;
    stop.store(true, Ordering::Relaxed);
    let mut ends = Vec::new();
    while let Some(end) = clients.join_next().await {
        ends.push(end.expect("a client task does not panic"));
    }

    deployment.settle().await.map_err(deploy_error)?;
    final_reads(&deployment, &workload, &ends, config).await;
    let history = recorder.records();
    let mut file = std::io::BufWriter::new(std::fs::File::create(dir.join("history.jsonl"))?);
    for record in &history {
        write_record(&mut file, record)?;
    }
    drop(file);
    deployment.close().await;

    let options = CheckOptions { revocation_grace_us: strategy.revocation_grace().as_micros() as u64 };
    let report = check(&history, &options);
    let summary = summarize(strategy, &history, report, &plan.windows, plan.end, resources);
    std::fs::write(dir.join("summary.json"), serde_json::to_vec_pretty(&summary).expect("plain data"))?;
    Ok(summary)
}

/// Every session and document the clients left, read on every route.
async fn final_reads(
    deployment: &Deployment,
    workload: &WorkloadConfig,
    ends: &[ClientEnd],
    config: &RunConfig,
) {
    let routes = deployment.routes().len();
    let mut tasks = JoinSet::new();
    for end in ends {
        // The same client, from the same source address: a gateway hashing IPs sends its end
        // reads where it sent its operations.
        let id = end.client;
        let caller = deployment.caller(id as usize, Duration::from_secs(5), Arc::new(AtomicU64::new(0)));
        let mut reader = Client::new(id, workload.clone(), caller, config.seed);
        let logins = end.logins.clone();
        let docs = end.docs.clone();
        tasks.spawn(async move {
            for mut login in logins {
                for route in 0..routes {
                    reader.validate_on(&mut login, route, true).await;
                }
            }
            for doc in docs {
                for route in 0..routes {
                    reader.read_doc(&doc, route).await;
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// Memory per session, then validate and patch throughput, before any fault.
async fn measure_resources(strategy: Strategy, deployment: &Deployment, profile: &Profile) -> Resources {
    let routes = deployment.routes();
    let key = deployment.key();
    let before = deployment.rss_total().await;
    create_sessions(deployment, key, strategy.sealed(), profile.memory_sessions).await;
    let after = deployment.rss_total().await;
    let per_node =
        (after.saturating_sub(before)) as f64 / profile.memory_sessions as f64 / strategy.nodes() as f64;
    let phase = |phase| async move {
        let before = deployment.backend_bytes().await;
        let mut throughput =
            measure(routes, key, strategy.sealed(), phase, profile.perf_connections, profile.perf_duration)
                .await;
        let requests = throughput.per_sec * profile.perf_duration.as_secs_f64() + throughput.errors as f64;
        let backend = deployment.backend_bytes().await.saturating_sub(before);
        throughput.backend_bytes_per_request = backend as f64 / requests.max(1.0);
        throughput
    };
    let validate = phase(Phase::Validate).await;
    let patch = match strategy.sealed() {
        true => None,
        false => Some(phase(Phase::Patch).await),
    };
    Resources { validate, patch, memory_per_session: per_node }
}

/// Creates `count` sessions over 16 connections.
async fn create_sessions(deployment: &Deployment, key: &BearerKey, sealed: bool, count: usize) {
    let mut tasks = JoinSet::new();
    let workers = 16;
    for worker in 0..workers {
        let mut caller = deployment.caller(worker, Duration::from_secs(5), Arc::new(AtomicU64::new(0)));
        let key = key.clone();
        tasks.spawn(async move {
            for n in (worker..count).step_by(workers) {
                let ask = CreateSession {
                    principal: Some(format!("mem{n}")),
                    attributes: Some(
                        serde_json::from_str(r#"{"cart":3,"theme":"dark"}"#).expect("valid JSON"),
                    ),
                    sealed,
                    ..CreateSession::default()
                };
                let route = n % caller.routes().len();
                let _ = caller.send(route, requests::create_session(&key, &ask)).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}
