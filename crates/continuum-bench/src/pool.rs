//! Creating a fixed number of sessions over a bounded number of connections: the pool for
//! `validate` and `patch`, and the load of `idle-memory`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use indicatif::ProgressBar;
use serde::Deserialize;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::caller::Caller;
use super::stats::{Outcome, Recorder};
use super::workload::{SessionPool, create_body};
use continuum_client::{BearerKey, Endpoint, requests};

/// How long creating one session may take before it counts as a timeout.
const CREATE_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection gives up after this many failures in a row, so a server that refuses everything
/// (a wrong key, a full disk) ends the run quickly instead of being asked `count` times.
const MAX_FAILURES_IN_A_ROW: u32 = 20;

/// What creating the sessions gave.
#[derive(Debug)]
pub struct Created {
    /// The sessions created.
    pub pool: SessionPool,
    /// Latencies and failures of the create requests.
    pub recorder: Recorder,
    /// How long it took.
    pub elapsed: Duration,
}

#[derive(Deserialize)]
struct CreatedBody {
    token: String,
    session: SessionSid,
}

#[derive(Deserialize)]
struct SessionSid {
    sid: String,
}

/// Creates `count` sessions, at most `connections` at a time.
pub async fn create_sessions(
    endpoint: &Endpoint,
    key: &BearerKey,
    count: usize,
    connections: usize,
    progress: &ProgressBar,
) -> Created {
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for worker in 0..connections.clamp(1, count.max(1)) {
        let caller = Caller::new(endpoint.clone());
        let (key, next, progress) = (key.clone(), Arc::clone(&next), progress.clone());
        tasks.spawn(create_some(caller, key, worker, count, next, progress));
    }
    let mut pool = SessionPool::default();
    let mut recorder = Recorder::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((part, part_recorder)) => {
                pool.tokens.extend(part.tokens);
                pool.sids.extend(part.sids);
                pool.validate_bodies.extend(part.validate_bodies);
                recorder.merge(&part_recorder);
            }
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => {}
        }
    }
    progress.finish_and_clear();
    Created { pool, recorder, elapsed: started.elapsed() }
}

/// One connection's share: takes the next index until `count` are taken.
async fn create_some(
    mut caller: Caller,
    key: BearerKey,
    worker: usize,
    count: usize,
    next: Arc<AtomicUsize>,
    progress: ProgressBar,
) -> (SessionPool, Recorder) {
    let mut pool = SessionPool::default();
    let mut recorder = Recorder::new();
    let mut failures_in_a_row = 0;
    while failures_in_a_row < MAX_FAILURES_IN_A_ROW {
        let index = next.fetch_add(1, Ordering::Relaxed);
        if index >= count {
            break;
        }
        let request = requests::create_session(&key, &create_body(worker, index as u64));
        let answer = caller.call(request, Instant::now() + CREATE_TIMEOUT).await;
        let mut outcome = answer.outcome;
        if outcome.error_key().is_none() {
            let body = answer.response.as_ref().map(|response| response.body().as_ref()).unwrap_or_default();
            match serde_json::from_slice::<CreatedBody>(body) {
                Ok(created) => {
                    pool.push(created.token, created.session.sid);
                }
                Err(_) => outcome = Outcome::BadBody,
            }
        }
        recorder.record(answer.latency, outcome);
        failures_in_a_row = if outcome.error_key().is_some() { failures_in_a_row + 1 } else { 0 };
        progress.inc(1);
    }
    (pool, recorder)
}
