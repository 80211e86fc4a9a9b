//! The `fanout` scenario: many reader sockets on one document, one writer sending stamped
//! updates at a steady pace, and the time from each send to each reader having the update.
//!
//! Every update sets `seq` and `t` (microseconds since the scenario's start, on the bench's
//! monotonic clock) in the document's map. A reader applies what it receives to its replica, as a
//! client would, and for each new `seq` records its receive time minus `t`: writer and readers
//! share one process, so one clock serves both ends.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::content::{MapWriter, Replica};
use super::error::SyncError;
use super::fd_limit::ensure_open_files;
use super::latency::LatencyRecorder;
use super::open::{OPEN_TIMEOUT, open_all};
use super::report::FanoutReport;
use super::socket::{SocketError, SyncSocket};
use super::target::{DocTarget, run_id};
use super::tokens::SocketTokens;
use super::wire::{self, Inbound};
use crate::progress;
use continuum_client::{BearerKey, Endpoint};

/// The name of the document.
pub const DOC_NAME: &str = "bench-fanout";

/// How long readers wait for deliveries after the last update was due, before counting the rest
/// as missed.
pub const DELIVERY_GRACE: Duration = Duration::from_secs(5);

/// A pause between the readers being ready and the first update, so that every reader task is
/// waiting on its socket.
const LEAD_IN: Duration = Duration::from_millis(200);

/// How the scenario runs.
#[derive(Clone, Copy, Debug)]
pub struct FanoutConfig {
    /// Reader sockets.
    pub readers: usize,
    /// Updates the writer sends.
    pub updates: u64,
    /// Time between two updates.
    pub interval: Duration,
    /// Sockets opened at a time.
    pub concurrency: usize,
}

/// Runs the scenario.
pub async fn run(
    endpoint: &Endpoint,
    key: &BearerKey,
    config: FanoutConfig,
) -> Result<FanoutReport, SyncError> {
    ensure_open_files(config.readers + 1)?;
    let principal = format!("bench-{}", run_id());
    let target = Arc::new(DocTarget::user(&principal, DOC_NAME));
    // The writer takes the socket index after the readers'.
    let tokens = Arc::new(SocketTokens::create(endpoint, key, &principal, config.readers + 1).await?);
    let bar = progress::counted("fanout", config.readers as u64);
    let (endpoint_for_open, target_for_open, tokens_for_open) =
        (endpoint.clone(), Arc::clone(&target), Arc::clone(&tokens));
    let opened = open_all(config.readers, config.concurrency, &bar, move |index| {
        let (endpoint, target, tokens) =
            (endpoint_for_open.clone(), Arc::clone(&target_for_open), Arc::clone(&tokens_for_open));
        async move {
            let mut socket =
                SyncSocket::open(&endpoint, &target, &tokens.for_socket(index).auth, false).await?;
            let mut replica = Replica::new();
            socket.sync(&mut replica, OPEN_TIMEOUT).await?;
            Ok((socket, replica))
        }
    })
    .await;
    if opened.items.is_empty() {
        return Err(SyncError::NoSocket { role: "reader", first_error: opened.first_error });
    }
    let mut writer = SyncSocket::open(endpoint, &target, &tokens.for_socket(config.readers).auth, false)
        .await
        .map_err(SyncError::OpenWriter)?;
    writer.sync(&mut Replica::new(), OPEN_TIMEOUT).await.map_err(SyncError::SyncWriter)?;

    let epoch = Instant::now();
    let first = epoch + LEAD_IN;
    let last_due =
        first + config.interval * u32::try_from(config.updates.saturating_sub(1)).unwrap_or(u32::MAX);
    let deadline = last_due + DELIVERY_GRACE;
    let readers = opened.items.len();
    let mut tasks = JoinSet::new();
    for (_, (socket, replica)) in opened.items {
        let reader = Reader { epoch, last_seq: config.updates.saturating_sub(1), deadline };
        tasks.spawn(reader.read(socket, replica));
    }

    let bar = progress::counted("fanout", config.updates);
    let mut content = MapWriter::new();
    let mut total = LatencyRecorder::new();
    let mut sent = 0u64;
    for seq in 0..config.updates {
        tokio::time::sleep_until(first + config.interval * u32::try_from(seq).unwrap_or(u32::MAX)).await;
        let sent_us = u64::try_from(epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
        let send = tokio::time::timeout_at(deadline, writer.send(wire::update(content.stamp(seq, sent_us))));
        if let Err(error) = send.await.unwrap_or(Err(SocketError::Timeout(DELIVERY_GRACE))) {
            tracing::warn!(error = %error, sent, "the fanout writer's socket broke");
            total.error(format!("writer-{}", error.kind()), 1);
            break;
        }
        sent += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();

    let mut deliveries = 0u64;
    for (kind, count) in &opened.errors {
        total.error(kind.clone(), *count);
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((recorder, delivered)) => {
                total.merge(&recorder);
                deliveries += delivered;
            }
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => {}
        }
    }
    writer.close().await;
    Ok(FanoutReport {
        scenario: "fanout",
        readers_asked: config.readers,
        readers,
        open_secs: opened.elapsed.as_secs_f64(),
        updates: sent,
        interval_ms: config.interval.as_secs_f64() * 1e3,
        deliveries,
        missed: missed(sent, readers, deliveries),
        latency_us: total.latencies(),
        errors: total.error_count(),
        errors_by_kind: total.errors().clone(),
    })
}

/// The (update, reader) pairs that never arrived.
pub fn missed(sent: u64, readers: usize, deliveries: u64) -> u64 {
    sent.saturating_mul(readers as u64).saturating_sub(deliveries)
}

/// One reader socket: it applies every update and times each new stamp.
struct Reader {
    epoch: Instant,
    last_seq: u64,
    deadline: Instant,
}

impl Reader {
    /// Reads until the last update arrived or the deadline passed; returns the latencies and the
    /// number of updates delivered.
    async fn read(self, mut socket: SyncSocket, mut replica: Replica) -> (LatencyRecorder, u64) {
        let mut recorder = LatencyRecorder::new();
        let mut delivered = 0u64;
        let mut seen: Option<u64> = None;
        loop {
            let frame = match tokio::time::timeout_at(self.deadline, socket.next_frame()).await {
                Ok(Ok(frame)) => frame,
                Ok(Err(error)) => {
                    recorder.error(error.kind(), 1);
                    break;
                }
                Err(_) => break, // what has not arrived by now is missed
            };
            let received_us = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
            let applied = wire::messages(&frame).try_for_each(|message| -> Result<(), SocketError> {
                match message? {
                    Inbound::Update(update) | Inbound::SyncStep2(update) => Ok(replica.apply(update)?),
                    _ => Ok(()),
                }
            });
            if let Err(error) = applied {
                tracing::debug!(error = %error, "a fanout reader cannot apply what it received");
                recorder.error(error.kind(), 1);
                break;
            }
            let Some((seq, sent_us)) = replica.stamp() else { continue };
            if seen != Some(seq) {
                seen = Some(seq);
                delivered += 1;
                recorder.record(Duration::from_micros(received_us.saturating_sub(sent_us)));
                if seq >= self.last_seq {
                    break;
                }
            }
        }
        socket.close().await;
        (recorder, delivered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missed_deliveries_are_what_did_not_arrive() {
        assert_eq!(missed(200, 1000, 200_000), 0);
        assert_eq!(missed(200, 1000, 199_990), 10);
        assert_eq!(missed(0, 1000, 0), 0);
        assert_eq!(missed(5, 2, 11), 0, "never negative");
    }
}
