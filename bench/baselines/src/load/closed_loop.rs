//! The timed closed loop: each connection sends its next request as soon as the previous answer
//! is in, through a warm-up and then a measurement window. Requests count when they start
//! inside the window.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::Connection;
use super::cpu::Snapshot;
use super::stats::{Outcome, Recorder, Summary};
use super::system::{Handle, Operation, System};

/// How many distinct keys a patch cycles through per session, as `continuum bench` does, so
/// that successive patches change different keys and sessions stay small.
pub const PATCH_KEYS: u64 = 8;

/// How long one answer may take before the connection is dropped and the request counts as an
/// `io` error; it bounds the run when a server stops answering.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The phases of one timed run.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// Not counted: connections open, caches fill.
    pub warmup: Duration,
    /// Measured.
    pub duration: Duration,
}

/// What one timed run measured.
#[derive(Clone, Debug)]
pub struct Measured {
    /// Requests, rate, latency, errors.
    pub summary: Summary,
    /// CPU time each watched process used during the window, in the order given.
    pub cpu: Vec<Option<Duration>>,
}

/// Runs `operation` against `system` on `connections` connections, connection `i` walking
/// `handles` at `i, i + n, i + 2n, ...`; `handles` must not be empty. The CPU time of the
/// processes `watch` is read when the window opens and when it closes.
pub async fn run(
    system: &System,
    operation: Operation,
    handles: Arc<Vec<Handle>>,
    connections: usize,
    window: Window,
    watch: &[u32],
) -> Measured {
    assert!(!handles.is_empty(), "a closed loop needs at least one session");
    let start = Instant::now();
    let measure_from = start + window.warmup;
    let end = measure_from + window.duration;
    let mut tasks = JoinSet::new();
    for worker in 0..connections {
        let (system, handles) = (system.clone(), Arc::clone(&handles));
        tasks.spawn(async move {
            drive(&system, operation, &handles, worker, connections, measure_from, end).await
        });
    }
    let pids = watch.to_vec();
    let cpu = tokio::spawn(async move {
        tokio::time::sleep_until(measure_from).await;
        let first = Snapshot::take(&pids);
        tokio::time::sleep_until(end).await;
        Snapshot::take(&pids).since(&first)
    });
    let mut total = Recorder::default();
    for recorder in tasks.join_all().await {
        total.merge(&recorder);
    }
    let cpu = cpu.await.unwrap_or_else(|_| vec![None; watch.len()]);
    Measured { summary: total.summary(window.duration), cpu }
}

async fn drive(
    system: &System,
    operation: Operation,
    handles: &[Handle],
    worker: usize,
    connections: usize,
    measure_from: Instant,
    end: Instant,
) -> Recorder {
    let mut recorder = Recorder::default();
    let mut connection: Option<Connection> = None;
    let mut seq: u64 = 0;
    let mut patch = Map::new();
    loop {
        let started = Instant::now();
        if started >= end {
            return recorder;
        }
        let index = (worker + usize::try_from(seq).unwrap_or(0).wrapping_mul(connections)) % handles.len();
        patch.clear();
        patch.insert(format!("k{}", seq % PATCH_KEYS), Value::from(seq));
        let request = system.operation(operation, &handles[index], &patch);
        seq += 1;
        let outcome = match send(&mut connection, system, request).await {
            Some(status) => Outcome::Status(status),
            None => Outcome::Io,
        };
        if started >= measure_from {
            recorder.record(started.elapsed(), outcome);
        }
    }
}

/// Sends on `connection`, opening it first when needed and dropping it when it broke. `None`
/// when no answer came.
pub async fn send(
    connection: &mut Option<Connection>,
    system: &System,
    request: http::Request<http_body_util::Full<hyper::body::Bytes>>,
) -> Option<u16> {
    answer(connection, system, request).await.map(|response| response.status().as_u16())
}

/// Like [`send`], returning the whole answer.
pub async fn answer(
    connection: &mut Option<Connection>,
    system: &System,
    request: http::Request<http_body_util::Full<hyper::body::Bytes>>,
) -> Option<http::Response<hyper::body::Bytes>> {
    if !connection.as_ref().is_some_and(Connection::is_open) {
        match Connection::open(system.addr).await {
            Ok(open) => *connection = Some(open),
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                return None;
            }
        }
    }
    let open = connection.as_mut().expect("opened above");
    match tokio::time::timeout(REQUEST_TIMEOUT, open.send(request)).await {
        Ok(Ok(response)) => Some(response),
        Ok(Err(_)) | Err(_) => {
            *connection = None;
            None
        }
    }
}
