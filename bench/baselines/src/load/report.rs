//! The tables a comparison run prints: throughput and latency per (system, operation) with the
//! ratio to the hello floor, the ratios of one system to another, and the lost updates.

use std::fmt::Write as _;

use super::lost_updates::LostUpdates;
use super::stats::Summary;
use super::system::Operation;

/// One measured (system, operation).
#[derive(Clone, Debug)]
pub struct Row {
    /// The system's name.
    pub system: String,
    /// The operation.
    pub operation: Operation,
    /// What was measured.
    pub summary: Summary,
    /// CPU microseconds per request during the window, where known.
    pub cpu: CpuPerRequest,
}

/// CPU microseconds each process spent per request of a window.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CpuPerRequest {
    /// The server under test.
    pub server: Option<f64>,
    /// Redis, for systems that keep sessions in it.
    pub redis: Option<f64>,
    /// The load generator.
    pub bench: Option<f64>,
}

fn micros(value: Option<f64>) -> String {
    value.map_or("-".to_owned(), |value| format!("{value:.1}"))
}

fn millis(micros: u64) -> String {
    format!("{:.2}ms", micros as f64 / 1000.0)
}

/// The throughput table; `floor` is the hello req/s the "vs hello" column divides by.
pub fn throughput(rows: &[Row], floor: Option<f64>) -> String {
    let mut out = format!(
        "{:<20} {:<9} {:>10} {:>9} {:>9} {:>9} {:>23}  errors\n",
        "system", "operation", "req/s", "p50", "p99", "vs hello", "cpu us/req srv/redis/gen"
    );
    for row in rows {
        let ratio = floor
            .filter(|floor| *floor > 0.0)
            .map_or("-".to_owned(), |floor| format!("{:.3}", row.summary.rps / floor));
        let errors = if row.summary.errors.is_empty() {
            "0".to_owned()
        } else {
            format!("{} {:?}", row.summary.error_count(), row.summary.errors)
        };
        let _ = writeln!(
            out,
            "{:<20} {:<9} {:>10.1} {:>9} {:>9} {:>9} {:>23}  {errors}",
            row.system,
            row.operation.to_string(),
            row.summary.rps,
            millis(row.summary.p50_us),
            millis(row.summary.p99_us),
            ratio,
            format!("{} / {} / {}", micros(row.cpu.server), micros(row.cpu.redis), micros(row.cpu.bench)),
        );
    }
    out
}

/// req/s of `system` over req/s of `reference` for `operation`, when both ran.
pub fn ratio(rows: &[Row], system: &str, reference: &str, operation: Operation) -> Option<f64> {
    let rps = |name: &str| {
        rows.iter().find(|row| row.system == name && row.operation == operation).map(|row| row.summary.rps)
    };
    let (numerator, denominator) = (rps(system)?, rps(reference)?);
    (denominator > 0.0).then(|| numerator / denominator)
}

/// The lost-update table.
pub fn lost_updates(results: &[(String, LostUpdates)]) -> String {
    let mut out = format!(
        "{:<20} {:>7} {:>7} {:>12} {:>6} {:>7}  failed by\n",
        "system", "writers", "writes", "acknowledged", "lost", "failed"
    );
    for (system, result) in results {
        let _ = writeln!(
            out,
            "{:<20} {:>7} {:>7} {:>12} {:>6} {:>7}  {:?}",
            system,
            result.writers,
            result.writers * result.writes,
            result.acknowledged,
            result.lost,
            result.failed,
            result.failed_by
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn row(system: &str, operation: Operation, rps: f64) -> Row {
        let summary = Summary { requests: 1, rps, p50_us: 1500, p99_us: 20_000, errors: BTreeMap::new() };
        let cpu = CpuPerRequest { server: Some(12.25), redis: None, bench: Some(8.0) };
        Row { system: system.to_owned(), operation, summary, cpu }
    }

    #[test]
    fn ratios_and_tables() {
        let rows = [row("a", Operation::Validate, 300.0), row("b", Operation::Validate, 200.0)];
        assert_eq!(ratio(&rows, "a", "b", Operation::Validate), Some(1.5));
        assert_eq!(ratio(&rows, "a", "b", Operation::Patch), None);
        let table = throughput(&rows, Some(1000.0));
        assert!(
            table
                .lines()
                .nth(1)
                .unwrap()
                .ends_with("300.0    1.50ms   20.00ms     0.300          12.2 / - / 8.0  0"),
            "{table}"
        );
        let failed_by = BTreeMap::from([("503".to_owned(), 2)]);
        let lost = LostUpdates { writers: 64, writes: 20, acknowledged: 1278, failed: 2, failed_by, lost: 7 };
        let table = lost_updates(&[("a".to_owned(), lost)]);
        assert!(
            table.lines().nth(1).unwrap().ends_with("64    1280         1278      7       2  {\"503\": 2}"),
            "{table}"
        );
    }
}
