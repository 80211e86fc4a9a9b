//! The timed closed loop: every connection sends its next request as soon as the previous answer
//! is in, through a warm-up and then a measurement window.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::ProgressBar;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::caller::Caller;
use super::stats::Recorder;
use super::workload::Workload;
use continuum_client::Endpoint;

/// How long requests still in flight at the end of the window may take before they count as
/// timeouts; it bounds how long a scenario can overrun.
pub const DRAIN: Duration = Duration::from_secs(5);

/// The phases of a timed scenario.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// Requests sent during this lead-in are not counted (connections open, caches fill).
    pub warmup: Duration,
    /// The measurement window.
    pub duration: Duration,
}

/// Runs one connection per workload until the window closes and returns what they recorded.
/// Requests are counted when they start inside the window.
pub async fn run_timed(
    endpoint: &Endpoint,
    workloads: Vec<Workload>,
    window: Window,
    progress: &ProgressBar,
) -> Recorder {
    let start = Instant::now();
    let measure_from = start + window.warmup;
    let end = measure_from + window.duration;
    let counted = Arc::new(AtomicU64::new(0));
    let mut connections = JoinSet::new();
    for workload in workloads {
        let caller = Caller::new(endpoint.clone());
        connections.spawn(drive(caller, workload, measure_from, end, Arc::clone(&counted)));
    }
    let mut total = Recorder::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            joined = connections.join_next() => match joined {
                Some(Ok(recorder)) => total.merge(&recorder),
                Some(Err(error)) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                Some(Err(_)) => {}
                None => break,
            },
            _ = ticker.tick() => {
                let elapsed = start.elapsed();
                progress.set_position(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX));
                let phase = if elapsed < window.warmup { "warming up" } else { "measuring" };
                progress.set_message(format!("{phase}: {} requests", counted.load(Ordering::Relaxed)));
            }
        }
    }
    progress.finish_and_clear();
    total
}

/// One connection's closed loop.
async fn drive(
    mut caller: Caller,
    mut workload: Workload,
    measure_from: Instant,
    end: Instant,
    counted: Arc<AtomicU64>,
) -> Recorder {
    let mut recorder = Recorder::new();
    loop {
        let started = Instant::now();
        if started >= end {
            break;
        }
        let answer = caller.call(workload.next_request(), end + DRAIN).await;
        if started >= measure_from {
            recorder.record(answer.latency, answer.outcome);
            counted.fetch_add(1, Ordering::Relaxed);
        }
    }
    recorder
}
