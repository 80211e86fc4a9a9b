//! [`Recorder`]: one connection's latencies and outcomes; [`LoadStats`]: the merged figures of a
//! scenario.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Latencies are recorded in microseconds, from 1 µs to this, with 3 significant digits; slower
/// answers are recorded as this value.
const MAX_LATENCY_US: u64 = 60_000_000;

/// How one request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// An answer with this status code (2xx is success, anything else an error).
    Status(u16),
    /// The connection broke before a whole answer arrived.
    Io,
    /// No answer in time.
    Timeout,
    /// No connection could be opened.
    Connect,
    /// A 2xx answer whose body is not what the scenario needs (a create without a token).
    BadBody,
}

impl Outcome {
    /// The key this outcome is counted under among errors, or `None` for a success.
    pub fn error_key(self) -> Option<String> {
        match self {
            Self::Status(status) if (200..300).contains(&status) => None,
            Self::Status(status) => Some(status.to_string()),
            Self::Io => Some("io".to_owned()),
            Self::Timeout => Some("timeout".to_owned()),
            Self::Connect => Some("connect".to_owned()),
            Self::BadBody => Some("bad-body".to_owned()),
        }
    }
}

/// What one closed-loop connection measured. Each connection has its own, so recording takes no
/// lock; they are merged when the scenario ends.
#[derive(Clone, Debug)]
pub struct Recorder {
    latencies: Histogram<u64>,
    requests: u64,
    errors: BTreeMap<String, u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Self { latencies: latency_histogram(), requests: 0, errors: BTreeMap::new() }
    }

    /// Records a request that ended with `outcome` after `latency`. Failed connects count as
    /// errors but not as requests, and carry no latency.
    pub fn record(&mut self, latency: Duration, outcome: Outcome) {
        if let Some(key) = outcome.error_key() {
            *self.errors.entry(key).or_default() += 1;
        }
        if outcome == Outcome::Connect {
            return;
        }
        self.requests += 1;
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX).max(1);
        self.latencies.saturating_record(micros);
    }

    /// Adds what `other` recorded.
    pub fn merge(&mut self, other: &Recorder) {
        self.latencies.add(&other.latencies).expect("recorders share the same bounds");
        self.requests += other.requests;
        for (key, count) in &other.errors {
            *self.errors.entry(key.clone()).or_default() += count;
        }
    }

    /// The figures over a measurement window of `elapsed`.
    pub fn stats(&self, elapsed: Duration) -> LoadStats {
        let secs = elapsed.as_secs_f64();
        LoadStats {
            requests: self.requests,
            elapsed_secs: secs,
            rps: if secs > 0.0 { self.requests as f64 / secs } else { 0.0 },
            latency_us: Latencies::of(&self.latencies),
            errors: self.errors.values().sum(),
            errors_by_kind: self.errors.clone(),
        }
    }
}

/// An empty histogram of latencies in microseconds, from 1 µs to 60 s with 3 significant digits;
/// record into it with `saturating_record` so that slower values count as 60 s.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("the histogram bounds are valid")
}

/// Latency percentiles in microseconds (upper bounds of their histogram buckets, within 0.1%).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Latencies {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Slowest.
    pub max: u64,
}

impl Latencies {
    /// The percentiles of `histogram` (of microseconds); all zero when it is empty.
    pub fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        Self {
            mean: histogram.mean(),
            p50: histogram.value_at_quantile(0.5),
            p90: histogram.value_at_quantile(0.9),
            p99: histogram.value_at_quantile(0.99),
            p999: histogram.value_at_quantile(0.999),
            max: histogram.max(),
        }
    }
}

/// What a timed scenario measured, over all connections.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadStats {
    /// Requests that got an answer (or broke) within the window, errors included.
    pub requests: u64,
    /// The measurement window, warm-up excluded.
    pub elapsed_secs: f64,
    /// `requests / elapsed_secs`.
    pub rps: f64,
    /// Latency of every request counted in `requests`.
    pub latency_us: Latencies,
    /// Requests without a 2xx answer, plus failed connects.
    pub errors: u64,
    /// `errors` by status code, `io`, `timeout` or `connect`.
    pub errors_by_kind: BTreeMap<String, u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    #[test]
    fn percentiles_and_rate_over_merged_recorders() {
        let mut first = Recorder::new();
        let mut second = Recorder::new();
        for i in 1..=500 {
            first.record(ms(i), Outcome::Status(200));
            second.record(ms(500 + i), Outcome::Status(201));
        }
        first.merge(&second);
        let stats = first.stats(Duration::from_secs(2));
        assert_eq!(stats.requests, 1000);
        assert_eq!(stats.rps, 500.0);
        assert_eq!(stats.errors, 0);
        // Within the histogram's 3 significant digits.
        let near = |actual: u64, expected: u64| actual.abs_diff(expected) <= expected / 1000 + 1;
        assert!(near(stats.latency_us.p50, 500_000), "{}", stats.latency_us.p50);
        assert!(near(stats.latency_us.p99, 990_000), "{}", stats.latency_us.p99);
        assert!(near(stats.latency_us.p999, 999_000), "{}", stats.latency_us.p999);
        assert!(near(stats.latency_us.max, 1_000_000), "{}", stats.latency_us.max);
    }

    #[test]
    fn errors_are_counted_by_kind_and_connects_are_not_requests() {
        let mut recorder = Recorder::new();
        recorder.record(ms(1), Outcome::Status(204));
        recorder.record(ms(1), Outcome::Status(401));
        recorder.record(ms(1), Outcome::Status(401));
        recorder.record(ms(1), Outcome::Status(503));
        recorder.record(ms(1), Outcome::Io);
        recorder.record(ms(1), Outcome::Timeout);
        recorder.record(Duration::ZERO, Outcome::Connect);
        let stats = recorder.stats(Duration::from_secs(1));
        assert_eq!(stats.requests, 6);
        assert_eq!(stats.errors, 6);
        let kinds: Vec<_> = stats.errors_by_kind.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(kinds, [("401", 2), ("503", 1), ("connect", 1), ("io", 1), ("timeout", 1)]);
    }

    #[test]
    fn an_empty_window_reports_zeros() {
        let stats = Recorder::new().stats(Duration::ZERO);
        assert_eq!((stats.requests, stats.rps, stats.latency_us.max), (0, 0.0, 0));
    }

    #[test]
    fn slow_answers_saturate_instead_of_failing() {
        let mut recorder = Recorder::new();
        recorder.record(Duration::from_secs(3600), Outcome::Status(200));
        assert!(recorder.stats(Duration::from_secs(1)).latency_us.max >= MAX_LATENCY_US);
    }
}
