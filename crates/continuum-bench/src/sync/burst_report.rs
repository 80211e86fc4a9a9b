//! What `burst` prints: [`BurstReport`] as one line, or one JSON object with `--json`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::report::{format_bytes, format_errors};

/// The resident memory the server should stay under during the burst (issue 7), bytes.
pub const PEAK_RSS_BOUND: u64 = 200 * 1024 * 1024;

/// The result of `burst`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BurstReport {
    /// Always `burst`.
    pub scenario: &'static str,
    /// Subscriber sockets asked for.
    pub subscribers_asked: usize,
    /// Subscriber sockets that opened and synced, all on one document.
    pub subscribers: usize,
    /// Updates the writer sent.
    pub updates: u64,
    /// How long the writer took to send them, seconds.
    pub send_secs: f64,
    /// From the first update sent to the last subscriber done (or given up), seconds.
    pub burst_secs: f64,
    /// Subscribers that ended with the final value.
    pub with_final: u64,
    /// The slowest of them, seconds after the burst started.
    pub slowest_secs: f64,
    /// The median of them, seconds.
    pub median_secs: f64,
    /// Reconnects after the server closed a subscriber.
    pub reconnects: u64,
    /// Closes and failures the subscribers saw, by kind (`close-1013`: fell behind).
    pub closed_by_server: BTreeMap<String, u64>,
    /// The server's count of peers detached for lag during the burst.
    pub detached_for_lag: u64,
    /// Server RSS before the subscribers opened, bytes.
    pub rss_before_open_bytes: u64,
    /// Server RSS with every subscriber open and synced, before the burst, bytes.
    pub rss_open_bytes: u64,
    /// `(rss_open - rss_before_open) / subscribers`: memory per socket on one document.
    pub bytes_per_socket: f64,
    /// The highest server RSS read during the burst, bytes.
    pub peak_rss_bytes: u64,
    /// The longest outbound queue of one peer seen during the burst (capacity 1024).
    pub peak_outbound_queue: u64,
    /// Server CPU time (user + system) during the burst, seconds; with `--server-pid` only.
    pub server_cpu_secs: Option<f64>,
    /// `server_cpu / delivered_updates`, microseconds.
    pub cpu_per_delivered_update_us: Option<f64>,
    /// `updates * with_final`: (update, subscriber) pairs whose effect reached the subscriber,
    /// relayed one by one or folded into a resync.
    pub delivered_updates: u64,
    /// Update messages the server queued for peers during the burst.
    pub update_messages_out: u64,
    /// Awareness messages the server sent while the subscribers joined, each announcing a state.
    pub awareness_out_joining: u64,
    /// Subscribers that closed at once at the end.
    pub leaving: u64,
    /// Awareness messages the server sent for them leaving.
    pub awareness_out_leaving: u64,
    /// Failed opens and writer failures.
    pub errors: u64,
    /// `errors` by kind.
    pub errors_by_kind: BTreeMap<String, u64>,
}

/// The lines for `burst`.
pub fn burst_line(report: &BurstReport) -> String {
    let bound = if report.peak_rss_bytes < PEAK_RSS_BOUND { "under" } else { "OVER" };
    let cpu = report
        .cpu_per_delivered_update_us
        .map_or_else(|| "n/a (no --server-pid)".to_owned(), |us| format!("{us:.2} µs"));
    format!(
        "burst: {}/{} subscribers, {} updates sent in {:.2}s: {} ended with the final value \
         (median {:.2}s, slowest {:.2}s after the first send); {} reconnects, closes {:?}, \
         {} detached for lag\n  memory: {} per socket on one document; peak RSS {} ({bound} {}); \
         longest queue {}\n  server CPU per delivered update: {cpu} ({} delivered, {} update messages)\n  \
         awareness: {} messages for {} joining, {} for {} leaving at once; errors {}",
        report.subscribers,
        report.subscribers_asked,
        report.updates,
        report.send_secs,
        report.with_final,
        report.median_secs,
        report.slowest_secs,
        report.reconnects,
        report.closed_by_server,
        report.detached_for_lag,
        format_bytes(report.bytes_per_socket),
        format_bytes(report.peak_rss_bytes as f64),
        format_bytes(PEAK_RSS_BOUND as f64),
        report.peak_outbound_queue,
        report.delivered_updates,
        report.update_messages_out,
        report.awareness_out_joining,
        report.subscribers,
        report.awareness_out_leaving,
        report.leaving,
        format_errors(report.errors, &report.errors_by_kind),
    )
}
