//! The `burst` scenario: `--sockets` subscribers of one document, then `--updates` updates from
//! one writer as fast as it can send them. It checks that every subscriber ends with the final
//! value within [`DELIVERY_DEADLINE`] — a subscriber the server closes for lag (1013) reconnects
//! and resyncs by state vector, as y-websocket does — and reads from the server: RSS per socket
//! on the one document, peak RSS during the burst, CPU per delivered update (with
//! `--server-pid`), and the awareness messages caused by every subscriber joining and then
//! leaving at once.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::burst_report::BurstReport;
use super::content::{MapWriter, Replica};
use super::error::SyncError;
use super::fd_limit::ensure_open_files;
use super::open::{OPEN_TIMEOUT, open_all};
use super::server_probe::{ServerProbe, SyncFigures, process_cpu};
use super::subscriber::{Subscriber, SubscriberTarget};
use super::target::{DocTarget, run_id};
use super::tokens::SocketTokens;
use super::wire;
use crate::idle_memory::SETTLE;
use crate::progress;
use crate::server_metrics::MetricsError;
use continuum_client::{BearerKey, Endpoint};

/// The name of the document.
pub const DOC_NAME: &str = "bench-burst";

/// How long after the burst starts every subscriber must have the final value.
pub const DELIVERY_DEADLINE: Duration = Duration::from_secs(60);

/// How often the server's RSS is read during the burst.
const RSS_POLL: Duration = Duration::from_millis(50);

/// Awareness client ids of the subscribers start here (the writer announces nothing).
const FIRST_CLIENT_ID: u64 = 1_000_000;

/// How the scenario runs.
#[derive(Clone, Copy, Debug)]
pub struct BurstConfig {
    /// Subscriber sockets.
    pub subscribers: usize,
    /// Updates in the burst.
    pub updates: u64,
    /// Sockets opened at a time.
    pub concurrency: usize,
    /// The server's process id, to read its CPU time (a local server only).
    pub server_pid: Option<u32>,
}

/// Runs the scenario.
pub async fn run(
    endpoint: &Endpoint,
    key: &BearerKey,
    config: BurstConfig,
) -> Result<BurstReport, SyncError> {
    ensure_open_files(config.subscribers + 2)?;
    let principal = format!("bench-{}", run_id());
    let target = Arc::new(DocTarget::user(&principal, DOC_NAME));
    let tokens = Arc::new(SocketTokens::create(endpoint, key, &principal, config.subscribers + 1).await?);
    let mut probe = ServerProbe::new(endpoint, key);
    tokio::time::sleep(SETTLE).await;
    let before_open = probe.read().await?;

    let bar = progress::counted("burst", config.subscribers as u64);
    let (endpoint_for_open, target_for_open, tokens_for_open) =
        (endpoint.clone(), Arc::clone(&target), Arc::clone(&tokens));
    let opened = open_all(config.subscribers, config.concurrency, &bar, move |index| {
        let subscriber = SubscriberTarget {
            endpoint: endpoint_for_open.clone(),
            target: Arc::clone(&target_for_open),
            auth: tokens_for_open.for_socket(index).auth.clone(),
            client_id: FIRST_CLIENT_ID + index as u64,
        };
        async move {
            let mut replica = Replica::new();
            let socket = subscriber.connect(&mut replica, 1, OPEN_TIMEOUT).await?;
            Ok((subscriber, socket, replica))
        }
    })
    .await;
    if opened.items.is_empty() {
        return Err(SyncError::NoSocket { role: "subscriber", first_error: opened.first_error });
    }
    let mut writer = super::socket::SyncSocket::open(
        endpoint,
        &target,
        &tokens.for_socket(config.subscribers).auth,
        false,
    )
    .await
    .map_err(SyncError::OpenWriter)?;
    writer.sync(&mut Replica::new(), OPEN_TIMEOUT).await.map_err(SyncError::SyncWriter)?;
    tokio::time::sleep(SETTLE).await;
    let opened_figures = probe.read().await?;
    let subscribers = opened.items.len();

    // The burst: subscribers read (and reconnect) while one writer sends as fast as it can.
    let start = Instant::now();
    let deadline = start + DELIVERY_DEADLINE;
    let last_seq = config.updates.saturating_sub(1);
    let mut tasks = JoinSet::new();
    for (_, (target, socket, replica)) in opened.items {
        let subscriber = Subscriber { target, replica, last_seq, start, deadline };
        tasks.spawn(subscriber.run(socket));
    }
    let (stop_polling, polling) = watch::channel(false);
    let poller = tokio::spawn(peak_rss(ServerProbe::new(endpoint, key), polling));
    let cpu_before = config.server_pid.map(process_cpu).transpose()?;
    let mut content = MapWriter::new();
    let mut sent = 0u64;
    let mut errors: BTreeMap<String, u64> = opened.errors.clone();
    for seq in 0..config.updates {
        if let Err(error) = writer.send(wire::update(content.stamp(seq, 0))).await {
            tracing::warn!(error = %error, sent, "the burst writer's socket broke");
            *errors.entry(format!("writer-{}", error.kind())).or_default() += 1;
            break;
        }
        sent += 1;
    }
    let send_secs = start.elapsed().as_secs_f64();

    let mut outcomes = Vec::with_capacity(subscribers);
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(outcome) => outcomes.push(outcome),
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => {}
        }
    }
    let burst_secs = start.elapsed().as_secs_f64();
    let cpu = match (config.server_pid, cpu_before) {
        (Some(pid), Some(before)) => Some(process_cpu(pid)?.saturating_sub(before)),
        _ => None,
    };
    let _ = stop_polling.send(true);
    let (peak_rss, peak_queue) = poller.await.map_err(SyncError::Poller)??;
    let after_burst = probe.read().await?;

    // Mass leave: every subscriber closes at once.
    let mut closing = JoinSet::new();
    let mut reconnects = 0;
    let mut closed_by_server: BTreeMap<String, u64> = BTreeMap::new();
    let mut done: Vec<Duration> = Vec::new();
    for outcome in outcomes {
        reconnects += outcome.reconnects;
        for (kind, count) in outcome.closes {
            *closed_by_server.entry(kind).or_default() += count;
        }
        done.extend(outcome.done_after);
        if let Some(socket) = outcome.socket {
            closing.spawn(socket.close());
        }
    }
    let leaving = closing.len() as u64;
    while closing.join_next().await.is_some() {}
    tokio::time::sleep(SETTLE).await;
    let after_leave = probe.read().await?;
    writer.close().await;

    let with_final = done.len() as u64;
    let delivered = sent * with_final;
    Ok(BurstReport {
        scenario: "burst",
        subscribers_asked: config.subscribers,
        subscribers,
        updates: sent,
        send_secs,
        burst_secs,
        with_final,
        slowest_secs: done.iter().max().map_or(0.0, Duration::as_secs_f64),
        median_secs: median(&mut done).as_secs_f64(),
        reconnects,
        closed_by_server,
        detached_for_lag: after_burst.detached_for_lag - opened_figures.detached_for_lag,
        rss_before_open_bytes: before_open.rss_bytes,
        rss_open_bytes: opened_figures.rss_bytes,
        bytes_per_socket: opened_figures.rss_bytes.saturating_sub(before_open.rss_bytes) as f64
            / subscribers.max(1) as f64,
        peak_rss_bytes: peak_rss.max(after_burst.rss_bytes),
        peak_outbound_queue: peak_queue,
        server_cpu_secs: cpu.map(|cpu| cpu.as_secs_f64()),
        cpu_per_delivered_update_us: cpu.map(|cpu| cpu.as_secs_f64() * 1e6 / delivered.max(1) as f64),
        delivered_updates: delivered,
        update_messages_out: after_burst.updates_delivered - opened_figures.updates_delivered,
        awareness_out_joining: opened_figures.awareness_out - before_open.awareness_out,
        leaving,
        awareness_out_leaving: after_leave.awareness_out - after_burst.awareness_out,
        errors: errors.values().sum(),
        errors_by_kind: errors,
    })
}

/// The middle of `times` (0 when empty).
fn median(times: &mut [Duration]) -> Duration {
    times.sort_unstable();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// Reads the server's figures every [`RSS_POLL`] until told to stop: the highest RSS and the
/// longest outbound queue seen.
async fn peak_rss(
    mut probe: ServerProbe,
    mut stop: watch::Receiver<bool>,
) -> Result<(u64, u64), MetricsError> {
    let (mut rss, mut queue) = (0, 0);
    loop {
        let SyncFigures { rss_bytes, outbound_max, .. } = probe.read().await?;
        rss = rss.max(rss_bytes);
        queue = queue.max(outbound_max);
        tokio::select! {
            _ = stop.changed() => return Ok((rss, queue)),
            () = tokio::time::sleep(RSS_POLL) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_time() {
        let ms = Duration::from_millis;
        assert_eq!(median(&mut [ms(30), ms(10), ms(20)]), ms(20));
        assert_eq!(median(&mut []), Duration::ZERO);
    }
}
