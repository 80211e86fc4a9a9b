//! [`Recorder`]: what one connection measured (no lock while recording), merged into a
//! [`Summary`] per (system, operation).

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

/// Latencies are recorded in microseconds up to 60 s, with 3 significant digits.
const MAX_LATENCY_US: u64 = 60_000_000;

/// How one request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// An answer with this status (2xx is a success).
    Status(u16),
    /// The connection broke or could not be opened.
    Io,
}

impl Outcome {
    /// The key it is counted under among errors, or `None` for a success.
    pub fn error_key(self) -> Option<String> {
        match self {
            Self::Status(status) if (200..300).contains(&status) => None,
            Self::Status(status) => Some(status.to_string()),
            Self::Io => Some("io".to_owned()),
        }
    }
}

/// Requests, errors and latencies of one or more connections.
#[derive(Clone, Debug)]
pub struct Recorder {
    latencies: Histogram<u64>,
    requests: u64,
    errors: BTreeMap<String, u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            latencies: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid bounds"),
            requests: 0,
            errors: BTreeMap::new(),
        }
    }
}

impl Recorder {
    /// Records one request.
    pub fn record(&mut self, latency: Duration, outcome: Outcome) {
        if let Some(key) = outcome.error_key() {
            *self.errors.entry(key).or_default() += 1;
        }
        self.requests += 1;
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX).max(1);
        self.latencies.saturating_record(micros);
    }

    /// Adds what `other` recorded.
    pub fn merge(&mut self, other: &Recorder) {
        self.latencies.add(&other.latencies).expect("recorders share their bounds");
        self.requests += other.requests;
        for (key, count) in &other.errors {
            *self.errors.entry(key.clone()).or_default() += count;
        }
    }

    /// The figures over a window of `elapsed`.
    pub fn summary(&self, elapsed: Duration) -> Summary {
        let secs = elapsed.as_secs_f64();
        let quantile = |q| if self.latencies.is_empty() { 0 } else { self.latencies.value_at_quantile(q) };
        Summary {
            requests: self.requests,
            rps: if secs > 0.0 { self.requests as f64 / secs } else { 0.0 },
            p50_us: quantile(0.5),
            p99_us: quantile(0.99),
            errors: self.errors.clone(),
        }
    }
}

/// What one (system, operation) run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Requests started inside the window, errors included.
    pub requests: u64,
    /// `requests` per second of the window.
    pub rps: f64,
    /// Median latency, microseconds.
    pub p50_us: u64,
    /// 99th percentile latency, microseconds.
    pub p99_us: u64,
    /// Errors by status code or `io`.
    pub errors: BTreeMap<String, u64>,
}

impl Summary {
    /// All errors.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_recorders_give_rate_percentiles_and_errors() {
        let (mut first, mut second) = (Recorder::default(), Recorder::default());
        for i in 1..=100 {
            first.record(Duration::from_millis(i), Outcome::Status(200));
            second.record(Duration::from_millis(100 + i), Outcome::Status(204));
        }
        second.record(Duration::from_millis(1), Outcome::Status(500));
        second.record(Duration::from_millis(1), Outcome::Io);
        first.merge(&second);
        let summary = first.summary(Duration::from_secs(2));
        assert_eq!((summary.requests, summary.rps), (202, 101.0));
        assert!(summary.p50_us.abs_diff(100_000) <= 1_000, "{}", summary.p50_us);
        assert!(summary.p99_us.abs_diff(198_000) <= 1_000, "{}", summary.p99_us);
        assert_eq!(summary.error_count(), 2);
        assert_eq!(summary.errors.keys().collect::<Vec<_>>(), ["500", "io"]);
    }
}
