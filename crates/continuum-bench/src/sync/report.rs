//! What the document scenarios print: one line each (a small table for `reconnect`), or one JSON
//! object each with `--json`. Formatting only; nothing here measures.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::report::{format_bytes, format_errors, format_latency};
use crate::stats::Latencies;

/// The result of `doc-updates`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DocUpdatesReport {
    /// Always `doc-updates`.
    pub scenario: &'static str,
    /// Writer sockets that opened, all on one document.
    pub writers: usize,
    /// Updates each writer keeps unacknowledged (1: it waits for each ack before the next).
    pub pipeline: usize,
    /// Warm-up before the window, seconds.
    pub warmup_secs: f64,
    /// The measurement window, seconds.
    pub elapsed_secs: f64,
    /// Updates sent inside the window and acknowledged as durable.
    pub updates: u64,
    /// `updates / elapsed_secs`.
    pub updates_per_sec: f64,
    /// From sending an update to the ack that covers it, in microseconds.
    pub ack_latency_us: Latencies,
    /// Failed opens, broken sockets, and updates of the window never acknowledged (`timeout`).
    pub errors: u64,
    /// `errors` by kind: an HTTP status, `close-<code>`, `io`, `timeout`, `protocol`.
    pub errors_by_kind: BTreeMap<String, u64>,
}

/// The result of `fanout`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FanoutReport {
    /// Always `fanout`.
    pub scenario: &'static str,
    /// Reader sockets asked for.
    pub readers_asked: usize,
    /// Reader sockets that opened and synced.
    pub readers: usize,
    /// How long opening and syncing them took, seconds.
    pub open_secs: f64,
    /// Updates the writer sent.
    pub updates: u64,
    /// Time between two updates, milliseconds.
    pub interval_ms: f64,
    /// (update, reader) pairs that arrived.
    pub deliveries: u64,
    /// `updates * readers - deliveries`.
    pub missed: u64,
    /// From the writer sending an update to a reader having it, in microseconds.
    pub latency_us: Latencies,
    /// Failed opens and sockets that broke while reading.
    pub errors: u64,
    /// `errors` by kind.
    pub errors_by_kind: BTreeMap<String, u64>,
}

/// The p99 a fan-out should stay under, microseconds.
pub const FANOUT_P99_TARGET_US: u64 = 50_000;

/// One reconnect of `reconnect`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReconnectRow {
    /// Updates made while the client was away.
    pub missed: u64,
    /// The payload of the sync step 2 it received on reconnecting.
    pub step2_bytes: usize,
    /// `step2_bytes` divided by the first sync's.
    pub vs_first_sync: f64,
    /// The whole document as one update, after the reconnect: what a new client would get.
    pub full_state_bytes: usize,
    /// From opening the socket to having the sync step 2, microseconds.
    pub reconnect_us: u64,
}

/// The result of `reconnect`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReconnectReport {
    /// Always `reconnect`.
    pub scenario: &'static str,
    /// Updates in the document before the first sync.
    pub updates: u64,
    /// The payload of the first sync step 2, from an empty client.
    pub first_sync_bytes: usize,
    /// How long the first sync took, microseconds.
    pub first_sync_us: u64,
    /// One row per reconnect, in the order run.
    pub reconnects: Vec<ReconnectRow>,
}

/// The result of `doc-memory`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DocMemoryReport {
    /// Always `doc-memory`.
    pub scenario: &'static str,
    /// Documents held open, one socket and one session each.
    pub documents: u64,
    /// Keys each document holds.
    pub keys_per_document: usize,
    /// Sessions that could not be created and documents that could not be opened.
    pub errors: u64,
    /// `errors` by kind.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// The server's RSS after creating the sessions, before opening any document, bytes.
    pub rss_before_bytes: u64,
    /// The RSS with every document open, bytes.
    pub rss_open_bytes: u64,
    /// The RSS after closing them all, bytes.
    pub rss_closed_bytes: u64,
    /// `(open - before) / documents`.
    pub bytes_per_document: f64,
    /// Documents opened (connect, sync, write, durable ack) per second.
    pub open_rate: f64,
}

/// The line for `doc-updates`.
pub fn doc_updates_line(report: &DocUpdatesReport) -> String {
    let latency = &report.ack_latency_us;
    let wait = if report.pipeline == 1 {
        "each waits for its ack".to_owned()
    } else {
        format!("{} unacked each", report.pipeline)
    };
    format!(
        "doc-updates: {} writers on one document ({wait}): {:.1} durable updates/s ({} in {:.0}s); \
         ack p50 {} p99 {} p99.9 {} max {}; errors {}",
        report.writers,
        report.updates_per_sec,
        report.updates,
        report.elapsed_secs,
        format_latency(latency.p50),
        format_latency(latency.p99),
        format_latency(latency.p999),
        format_latency(latency.max),
        format_errors(report.errors, &report.errors_by_kind),
    )
}

/// The line for `fanout`.
pub fn fanout_line(report: &FanoutReport) -> String {
    let latency = &report.latency_us;
    let target = if report.deliveries == 0 {
        "no deliveries"
    } else if latency.p99 < FANOUT_P99_TARGET_US {
        "under"
    } else {
        "OVER"
    };
    format!(
        "fanout: {}/{} readers (opened in {:.1}s), {} updates {}ms apart: {} deliveries, {} missed; \
         p50 {} p99 {} ({target} the {} target) p99.9 {} max {}; errors {}",
        report.readers,
        report.readers_asked,
        report.open_secs,
        report.updates,
        report.interval_ms,
        report.deliveries,
        report.missed,
        format_latency(latency.p50),
        format_latency(latency.p99),
        format_latency(FANOUT_P99_TARGET_US),
        format_latency(latency.p999),
        format_latency(latency.max),
        format_errors(report.errors, &report.errors_by_kind),
    )
}

/// The lines for `reconnect`: a sentence, then one table row per reconnect.
pub fn reconnect_table(report: &ReconnectReport) -> String {
    let mut text = format!(
        "reconnect: a document of {} updates; first sync {} ({}), then after missing:\n{:>8} {:>12} {:>14} {:>12} {:>10}",
        report.updates,
        format_bytes(report.first_sync_bytes as f64),
        format_latency(report.first_sync_us),
        "missed",
        "sync step 2",
        "vs first sync",
        "full state",
        "took",
    );
    for row in &report.reconnects {
        text.push_str(&format!(
            "\n{:>8} {:>12} {:>14.3} {:>12} {:>10}",
            row.missed,
            format_bytes(row.step2_bytes as f64),
            row.vs_first_sync,
            format_bytes(row.full_state_bytes as f64),
            format_latency(row.reconnect_us),
        ));
    }
    text
}

/// The line for `doc-memory`.
pub fn doc_memory_line(report: &DocMemoryReport) -> String {
    format!(
        "doc-memory: {} documents open ({} keys, one socket each; {:.0}/s), RSS {} -> {}: {} per open \
         document; {} after closing; errors {}",
        report.documents,
        report.keys_per_document,
        report.open_rate,
        format_bytes(report.rss_before_bytes as f64),
        format_bytes(report.rss_open_bytes as f64),
        format_bytes(report.bytes_per_document),
        format_bytes(report.rss_closed_bytes as f64),
        format_errors(report.errors, &report.errors_by_kind),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latencies(p50: u64, p99: u64) -> Latencies {
        Latencies { mean: p50 as f64, p50, p90: p99, p99, p999: p99 * 2, max: p99 * 3 }
    }

    #[test]
    fn doc_updates_reads_as_a_sentence_and_json_is_flat() {
        let report = DocUpdatesReport {
            scenario: "doc-updates",
            writers: 64,
            pipeline: 1,
            warmup_secs: 1.0,
            elapsed_secs: 10.0,
            updates: 123_456,
            updates_per_sec: 12_345.6,
            ack_latency_us: latencies(1_200, 4_500),
            errors: 0,
            errors_by_kind: BTreeMap::new(),
        };
        assert_eq!(
            doc_updates_line(&report),
            "doc-updates: 64 writers on one document (each waits for its ack): 12345.6 durable updates/s \
             (123456 in 10s); ack p50 1.20ms p99 4.50ms p99.9 9.00ms max 13.50ms; errors 0"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["scenario"], "doc-updates");
        assert_eq!(json["ack_latency_us"]["p99"], 4_500);
        assert_eq!(json["updates_per_sec"], 12_345.6);
    }

    #[test]
    fn fanout_says_whether_p99_met_the_target() {
        let mut report = FanoutReport {
            scenario: "fanout",
            readers_asked: 1000,
            readers: 1000,
            open_secs: 1.31,
            updates: 200,
            interval_ms: 20.0,
            deliveries: 199_990,
            missed: 10,
            latency_us: latencies(2_000, 9_800),
            errors: 1,
            errors_by_kind: BTreeMap::from([("close-1013".to_owned(), 1)]),
        };
        assert_eq!(
            fanout_line(&report),
            "fanout: 1000/1000 readers (opened in 1.3s), 200 updates 20ms apart: 199990 deliveries, 10 missed; \
             p50 2.00ms p99 9.80ms (under the 50.00ms target) p99.9 19.60ms max 29.40ms; errors 1 (close-1013: 1)"
        );
        report.latency_us = latencies(30_000, 60_000);
        assert!(fanout_line(&report).contains("(OVER the 50.00ms target)"));
    }

    #[test]
    fn reconnect_is_a_small_table() {
        let report = ReconnectReport {
            scenario: "reconnect",
            updates: 200,
            first_sync_bytes: 6_000,
            first_sync_us: 900,
            reconnects: vec![
                ReconnectRow {
                    missed: 0,
                    step2_bytes: 2,
                    vs_first_sync: 2.0 / 6000.0,
                    full_state_bytes: 6_000,
                    reconnect_us: 400,
                },
                ReconnectRow {
                    missed: 100,
                    step2_bytes: 3_000,
                    vs_first_sync: 0.5,
                    full_state_bytes: 9_000,
                    reconnect_us: 700,
                },
            ],
        };
        assert_eq!(
            reconnect_table(&report),
            "reconnect: a document of 200 updates; first sync 5.9 KiB (900us), then after missing:\n\
             \x20 missed  sync step 2  vs first sync   full state       took\n\
             \x20      0          2 B          0.000      5.9 KiB      400us\n\
             \x20    100      2.9 KiB          0.500      8.8 KiB      700us"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["reconnects"][1]["step2_bytes"], 3_000);
    }

    #[test]
    fn doc_memory_reads_as_a_sentence() {
        let report = DocMemoryReport {
            scenario: "doc-memory",
            documents: 2000,
            keys_per_document: 20,
            errors: 0,
            errors_by_kind: BTreeMap::new(),
            rss_before_bytes: 30 << 20,
            rss_open_bytes: 50 << 20,
            rss_closed_bytes: 40 << 20,
            bytes_per_document: f64::from(20 << 20) / 2000.0,
            open_rate: 1500.0,
        };
        assert_eq!(
            doc_memory_line(&report),
            "doc-memory: 2000 documents open (20 keys, one socket each; 1500/s), RSS 30.0 MiB -> 50.0 MiB: \
             10.2 KiB per open document; 40.0 MiB after closing; errors 0"
        );
    }
}
