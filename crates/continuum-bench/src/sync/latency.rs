//! [`LatencyRecorder`]: one task's latencies (ack waits, deliveries) in an HDR histogram, merged
//! when the scenario ends, and the errors it met by kind.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::stats::{Latencies, latency_histogram};

/// Latencies and errors of one task; each task has its own, so recording takes no lock.
#[derive(Clone, Debug)]
pub struct LatencyRecorder {
    histogram: Histogram<u64>,
    errors: BTreeMap<String, u64>,
}

impl Default for LatencyRecorder {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyRecorder {
    /// Nothing recorded.
    pub fn new() -> Self {
        Self { histogram: latency_histogram(), errors: BTreeMap::new() }
    }

    /// Records one latency; anything past the histogram's 60 s counts as 60 s.
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX).max(1);
        self.histogram.saturating_record(micros);
    }

    /// Counts `count` errors of `kind`.
    pub fn error(&mut self, kind: impl Into<String>, count: u64) {
        if count > 0 {
            *self.errors.entry(kind.into()).or_default() += count;
        }
    }

    /// Adds what `other` recorded.
    pub fn merge(&mut self, other: &LatencyRecorder) {
        self.histogram.add(&other.histogram).expect("recorders share the same bounds");
        for (kind, count) in &other.errors {
            *self.errors.entry(kind.clone()).or_default() += count;
        }
    }

    /// Latencies recorded.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// Their percentiles, in microseconds.
    pub fn latencies(&self) -> Latencies {
        Latencies::of(&self.histogram)
    }

    /// The errors by kind.
    pub fn errors(&self) -> &BTreeMap<String, u64> {
        &self.errors
    }

    /// Errors in all.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_percentiles_and_errors() {
        let mut first = LatencyRecorder::new();
        let mut second = LatencyRecorder::new();
        for i in 1..=100 {
            first.record(Duration::from_millis(i));
            second.record(Duration::from_millis(100 + i));
        }
        first.error("timeout", 2);
        second.error("timeout", 1);
        second.error("close-1013", 1);
        second.error("io", 0);
        first.merge(&second);
        assert_eq!(first.count(), 200);
        let latencies = first.latencies();
        assert!(latencies.p50.abs_diff(100_000) <= 100, "{}", latencies.p50);
        assert!(latencies.p99.abs_diff(198_000) <= 200, "{}", latencies.p99);
        assert!(latencies.max.abs_diff(200_000) <= 200, "{}", latencies.max);
        assert_eq!(first.error_count(), 4);
        assert_eq!(first.errors().keys().collect::<Vec<_>>(), ["close-1013", "timeout"]);
        assert_eq!(LatencyRecorder::new().latencies(), Latencies::default());
    }
}
