//! What a bench run prints: a table row per timed scenario, a line for `idle-memory`, or one JSON
//! object per scenario with `--json`. Formatting only; nothing here measures.

use std::collections::BTreeMap;

use serde::Serialize;

use super::stats::LoadStats;

/// The result of a timed scenario.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadReport {
    /// The scenario's name.
    pub scenario: &'static str,
    /// Concurrent keep-alive connections.
    pub connections: usize,
    /// Warm-up before the window, seconds.
    pub warmup_secs: f64,
    /// The figures.
    #[serde(flatten)]
    pub stats: LoadStats,
    /// This scenario's req/s divided by `hello`'s, when `hello` ran in the same invocation.
    pub relative_to_hello: Option<f64>,
}

/// The result of `idle-memory`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IdleMemoryReport {
    /// Always `idle-memory`.
    pub scenario: &'static str,
    /// Sessions created (successfully).
    pub sessions: u64,
    /// Sessions whose creation failed.
    pub errors: u64,
    /// The failures by status code or `io`/`timeout`/`connect`.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// The server's RSS before, bytes.
    pub rss_before_bytes: u64,
    /// The server's RSS after creating the sessions and settling, bytes.
    pub rss_after_bytes: u64,
    /// `(after - before) / sessions`; negative when the server gave memory back.
    pub bytes_per_session: f64,
    /// The server's `continuum_sessions` gauge before, if it has one.
    pub sessions_gauge_before: Option<f64>,
    /// The same gauge after.
    pub sessions_gauge_after: Option<f64>,
    /// How fast the sessions were created, per second.
    pub create_rps: f64,
}

impl IdleMemoryReport {
    /// Bytes per session for a change of RSS from `before` to `after` over `sessions`.
    pub fn bytes_per_session(before: u64, after: u64, sessions: u64) -> f64 {
        if sessions == 0 {
            return 0.0;
        }
        (after as f64 - before as f64) / sessions as f64
    }
}

/// A latency in microseconds, in the unit that keeps it readable: `850us`, `1.25ms`, `2.50s`.
pub fn format_latency(micros: u64) -> String {
    match micros {
        0..1_000 => format!("{micros}us"),
        1_000..1_000_000 => format!("{:.2}ms", micros as f64 / 1e3),
        _ => format!("{:.2}s", micros as f64 / 1e6),
    }
}

/// A byte count in binary units: `512 B`, `1.5 KiB`, `48.2 MiB`, `1.03 GiB`.
pub fn format_bytes(bytes: f64) -> String {
    let magnitude = bytes.abs();
    if magnitude < 1024.0 {
        format!("{bytes:.0} B")
    } else if magnitude < 1024.0 * 1024.0 {
        format!("{:.1} KiB", bytes / 1024.0)
    } else if magnitude < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MiB", bytes / (1024.0 * 1024.0))
    } else {
        format!("{:.2} GiB", bytes / (1024.0 * 1024.0 * 1024.0))
    }
}

/// `0`, or the total and its breakdown: `12 (401: 10, io: 2)`.
pub fn format_errors(total: u64, by_kind: &BTreeMap<String, u64>) -> String {
    if total == 0 {
        return "0".to_owned();
    }
    let kinds: Vec<String> = by_kind.iter().map(|(kind, count)| format!("{kind}: {count}")).collect();
    format!("{total} ({})", kinds.join(", "))
}

/// The header of the table of timed scenarios.
pub fn table_header() -> String {
    format!(
        "{:<10} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>8}  errors",
        "scenario", "req/s", "requests", "p50", "p99", "p99.9", "max", "vs hello"
    )
}

/// One row of the table, under [`table_header`].
pub fn table_row(report: &LoadReport) -> String {
    let stats = &report.stats;
    let latency = &stats.latency_us;
    let relative = report.relative_to_hello.map_or_else(|| "-".to_owned(), |ratio| format!("{ratio:.3}"));
    format!(
        "{:<10} {:>10.1} {:>10} {:>9} {:>9} {:>9} {:>9} {:>8}  {}",
        report.scenario,
        stats.rps,
        stats.requests,
        format_latency(latency.p50),
        format_latency(latency.p99),
        format_latency(latency.p999),
        format_latency(latency.max),
        relative,
        format_errors(stats.errors, &stats.errors_by_kind),
    )
}

/// The line for `idle-memory`.
pub fn idle_memory_line(report: &IdleMemoryReport) -> String {
    let gauge = match (report.sessions_gauge_before, report.sessions_gauge_after) {
        (Some(before), Some(after)) => format!(", continuum_sessions {before} -> {after}"),
        _ => String::new(),
    };
    format!(
        "idle-memory: {} sessions ({:.0}/s), RSS {} -> {}: {} per idle session{gauge}; errors {}",
        report.sessions,
        report.create_rps,
        format_bytes(report.rss_before_bytes as f64),
        format_bytes(report.rss_after_bytes as f64),
        format_bytes(report.bytes_per_session),
        format_errors(report.errors, &report.errors_by_kind),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Outcome, Recorder};
    use std::time::Duration;

    #[test]
    fn latencies_pick_a_readable_unit() {
        assert_eq!(format_latency(850), "850us");
        assert_eq!(format_latency(1_250), "1.25ms");
        assert_eq!(format_latency(999_999), "1000.00ms");
        assert_eq!(format_latency(2_500_000), "2.50s");
    }

    #[test]
    fn bytes_use_binary_units_and_keep_their_sign() {
        assert_eq!(format_bytes(512.0), "512 B");
        assert_eq!(format_bytes(1536.0), "1.5 KiB");
        assert_eq!(format_bytes(-3.0 * 1024.0 * 1024.0), "-3.0 MiB");
        assert_eq!(format_bytes(1.5 * 1024.0 * 1024.0 * 1024.0), "1.50 GiB");
        assert_eq!(IdleMemoryReport::bytes_per_session(1000, 3000, 4), 500.0);
        assert_eq!(IdleMemoryReport::bytes_per_session(3000, 1000, 4), -500.0);
        assert_eq!(IdleMemoryReport::bytes_per_session(1, 2, 0), 0.0);
    }

    fn report() -> LoadReport {
        let mut recorder = Recorder::new();
        for _ in 0..3 {
            recorder.record(Duration::from_micros(700), Outcome::Status(200));
        }
        recorder.record(Duration::from_millis(12), Outcome::Status(401));
        LoadReport {
            scenario: "validate",
            connections: 64,
            warmup_secs: 1.0,
            stats: recorder.stats(Duration::from_secs(2)),
            relative_to_hello: Some(0.5),
        }
    }

    #[test]
    fn a_row_lines_up_under_the_header() {
        let header = table_header();
        let row = table_row(&report());
        assert_eq!(
            header,
            "scenario        req/s   requests       p50       p99     p99.9       max vs hello  errors"
        );
        assert_eq!(
            row,
            "validate          2.0          4     700us   12.01ms   12.01ms   12.01ms    0.500  1 (401: 1)"
        );
        assert_eq!(header.find("errors"), row.find("1 (401"));
    }

    #[test]
    fn json_has_flat_stats_and_microseconds() {
        let json = serde_json::to_value(report()).unwrap();
        assert_eq!(json["scenario"], "validate");
        assert_eq!(json["requests"], 4);
        assert_eq!(json["rps"], 2.0);
        assert_eq!(json["latency_us"]["p50"], 700);
        assert_eq!(json["errors_by_kind"]["401"], 1);
        assert_eq!(json["relative_to_hello"], 0.5);
    }

    #[test]
    fn idle_memory_line_reads_as_a_sentence() {
        let report = IdleMemoryReport {
            scenario: "idle-memory",
            sessions: 1000,
            errors: 0,
            errors_by_kind: BTreeMap::new(),
            rss_before_bytes: 10 * 1024 * 1024,
            rss_after_bytes: 11 * 1024 * 1024,
            bytes_per_session: IdleMemoryReport::bytes_per_session(10 << 20, 11 << 20, 1000),
            sessions_gauge_before: Some(0.0),
            sessions_gauge_after: Some(1000.0),
            create_rps: 5000.0,
        };
        assert_eq!(
            idle_memory_line(&report),
            "idle-memory: 1000 sessions (5000/s), RSS 10.0 MiB -> 11.0 MiB: 1.0 KiB per idle session, \
             continuum_sessions 0 -> 1000; errors 0"
        );
    }
}
