//! The `doc-updates` scenario: writer sockets on one document, each in a closed loop that sends a
//! small update (one key of a `Y.Map`) and times its durability ack.
//!
//! Each writer keeps at most `pipeline` updates unacknowledged (1 by default: it waits for each
//! ack before sending the next, like the HTTP scenarios' one request at a time). Every update is
//! relayed to every other writer, so the server's work grows with the square of the writers; the
//! writers read and drop those relays.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;
use yrs::Any;

use super::acks::AckTracker;
use super::content::{MapWriter, Replica};
use super::error::SyncError;
use super::fd_limit::ensure_open_files;
use super::latency::LatencyRecorder;
use super::open::{OPEN_TIMEOUT, Opened, open_all};
use super::report::DocUpdatesReport;
use super::socket::SyncSocket;
use super::target::{DocTarget, run_id};
use super::tokens::SocketTokens;
use super::wire::{self, Inbound};
use crate::load::{DRAIN, Window};
use crate::progress;
use crate::workload::PATCH_KEYS;
use continuum_client::{BearerKey, Endpoint};

/// The name of the document the writers share.
pub const DOC_NAME: &str = "bench-updates";

/// The most writers on the one document: each update is relayed to every other writer.
pub const MAX_WRITERS: usize = 256;

/// How the scenario runs.
#[derive(Clone, Copy, Debug)]
pub struct DocUpdatesConfig {
    /// Writer sockets (capped at [`MAX_WRITERS`]).
    pub writers: usize,
    /// Unacknowledged updates each writer may have.
    pub pipeline: usize,
    /// Warm-up and measurement window.
    pub window: Window,
}

/// Runs the scenario.
pub async fn run(
    endpoint: &Endpoint,
    key: &BearerKey,
    config: DocUpdatesConfig,
) -> Result<DocUpdatesReport, SyncError> {
    let writers = config.writers.clamp(1, MAX_WRITERS);
    ensure_open_files(writers)?;
    let principal = format!("bench-{}", run_id());
    let target = Arc::new(DocTarget::user(&principal, DOC_NAME));
    let tokens = Arc::new(SocketTokens::create(endpoint, key, &principal, writers).await?);
    let bar = progress::counted("doc-updates", writers as u64);
    let endpoint_for_open = endpoint.clone();
    let opened: Opened<SyncSocket> = open_all(writers, writers, &bar, move |index| {
        let (endpoint, target, tokens) =
            (endpoint_for_open.clone(), Arc::clone(&target), Arc::clone(&tokens));
        async move {
            let mut socket =
                SyncSocket::open(&endpoint, &target, &tokens.for_socket(index).auth, true).await?;
            socket.sync(&mut Replica::new(), OPEN_TIMEOUT).await?;
            Ok(socket)
        }
    })
    .await;
    if opened.items.is_empty() {
        return Err(SyncError::NoSocket { role: "writer", first_error: opened.first_error });
    }

    let start = Instant::now();
    let measure_from = start + config.window.warmup;
    let end = measure_from + config.window.duration;
    let counted = Arc::new(AtomicU64::new(0));
    let bar = progress::timed("doc-updates", config.window.warmup + config.window.duration);
    let mut tasks = JoinSet::new();
    let writers_open = opened.items.len();
    for (index, socket) in opened.items {
        let writer = Writer {
            index,
            pipeline: config.pipeline.max(1),
            measure_from,
            end,
            counted: Arc::clone(&counted),
        };
        tasks.spawn(writer.drive(socket));
    }
    let mut total = LatencyRecorder::new();
    for (kind, count) in &opened.errors {
        total.error(kind.clone(), *count);
    }
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                Some(Ok(recorder)) => total.merge(&recorder),
                Some(Err(error)) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                Some(Err(_)) => {}
                None => break,
            },
            _ = ticker.tick() => {
                let elapsed = start.elapsed();
                bar.set_position(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX));
                let phase = if elapsed < config.window.warmup { "warming up" } else { "measuring" };
                bar.set_message(format!("{phase}: {} durable updates", counted.load(Ordering::Relaxed)));
            }
        }
    }
    bar.finish_and_clear();
    let secs = config.window.duration.as_secs_f64();
    Ok(DocUpdatesReport {
        scenario: "doc-updates",
        writers: writers_open,
        pipeline: config.pipeline.max(1),
        warmup_secs: config.window.warmup.as_secs_f64(),
        elapsed_secs: secs,
        updates: total.count(),
        updates_per_sec: if secs > 0.0 { total.count() as f64 / secs } else { 0.0 },
        ack_latency_us: total.latencies(),
        errors: total.error_count(),
        errors_by_kind: total.errors().clone(),
    })
}

/// One writer socket's closed loop.
struct Writer {
    index: usize,
    pipeline: usize,
    measure_from: Instant,
    end: Instant,
    counted: Arc<AtomicU64>,
}

impl Writer {
    /// Sends until the window closes, then waits at most [`DRAIN`] for the last acks. Updates
    /// count when they were sent inside the window; those never acknowledged count as `timeout`.
    async fn drive(self, mut socket: SyncSocket) -> LatencyRecorder {
        let mut recorder = LatencyRecorder::new();
        let mut content = MapWriter::new();
        let mut tracker = AckTracker::<Instant>::new();
        // A few keys per writer, cycled, so the document stays small however long the run.
        let keys: Vec<String> = (0..PATCH_KEYS).map(|key| format!("w{}.k{key}", self.index)).collect();
        let mut seq = 0u64;
        let broken = 'writer: loop {
            while tracker.in_flight() < self.pipeline && Instant::now() < self.end {
                let key = keys[(seq % PATCH_KEYS) as usize].as_str();
                let update = content.set([(key, Any::from(seq as f64))]);
                let sent_at = Instant::now();
                match tokio::time::timeout_at(self.end + DRAIN, socket.send(wire::update(update))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(error)) => break 'writer Some(error.kind()),
                    Err(_) => break 'writer Some("timeout".to_owned()),
                }
                tracker.sent(sent_at);
                seq += 1;
            }
            if tracker.in_flight() == 0 {
                break 'writer None;
            }
            let frame = match tokio::time::timeout_at(self.end + DRAIN, socket.next_frame()).await {
                Ok(Ok(frame)) => frame,
                Ok(Err(error)) => break 'writer Some(error.kind()),
                Err(_) => break 'writer Some("timeout".to_owned()),
            };
            let now = Instant::now();
            for message in wire::messages(&frame) {
                match message {
                    Ok(Inbound::Ack(durable)) => {
                        for sent_at in tracker.acked(durable) {
                            if sent_at >= self.measure_from {
                                recorder.record(now - sent_at);
                                self.counted.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    Ok(_) => {} // another writer's update, relayed: not needed here
                    Err(error) => {
                        tracing::debug!(error = %error, "doc-updates: a frame is not y-websocket");
                        recorder.error("protocol", 1);
                    }
                }
            }
        };
        if let Some(kind) = broken {
            // Every update of the window still waiting for its ack is lost to this ending.
            let lost = tracker.acked(u64::MAX).filter(|sent_at| *sent_at >= self.measure_from).count();
            recorder.error(kind, (lost as u64).max(1));
        }
        socket.close().await;
        recorder
    }
}
