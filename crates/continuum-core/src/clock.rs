//! The [`Clock`] every component takes its time from, so expiry is tested without sleeping,
//! and [`SkewedClock`], a clock set wrong on purpose for clock-skew tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::time::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Timestamp::from_millis(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that moves only when told to; clones share the same time.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self(Arc::new(AtomicI64::new(start.as_millis())))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(millis, Ordering::SeqCst);
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: Timestamp) {
        self.0.store(to.as_millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}

/// Another clock moved by a fixed signed offset: what a node whose wall clock is wrong reads.
///
/// Meant for tests only (`continuum serve --clock-skew-ms`, hidden): a node reading it decides
/// expiry, touches and creation times as if it were `offset_ms` milliseconds ahead (positive)
/// or behind (negative) of the clock it wraps. The sum saturates instead of overflowing.
#[derive(Clone)]
pub struct SkewedClock {
    inner: Arc<dyn Clock>,
    offset_ms: i64,
}

impl SkewedClock {
    /// `inner`, read `offset_ms` milliseconds ahead (or behind, when negative).
    pub fn new(inner: Arc<dyn Clock>, offset_ms: i64) -> Self {
        Self { inner, offset_ms }
    }

    /// The offset added to every reading, in milliseconds.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms
    }
}

impl std::fmt::Debug for SkewedClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SkewedClock").field("offset_ms", &self.offset_ms).finish_non_exhaustive()
    }
}

impl Clock for SkewedClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.inner.now().as_millis().saturating_add(self.offset_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_clones_share_time() {
        let clock = ManualClock::new(Timestamp::from_millis(1_000));
        let other = clock.clone();
        clock.advance(Duration::from_secs(2));
        assert_eq!(other.now(), Timestamp::from_millis(3_000));
    }

    #[test]
    fn a_skewed_clock_reads_its_inner_clock_plus_the_offset_both_ways() {
        let inner = ManualClock::new(Timestamp::from_millis(10_000));
        let ahead = SkewedClock::new(Arc::new(inner.clone()), 7_200_000);
        let behind = SkewedClock::new(Arc::new(inner.clone()), -4_000);
        assert_eq!(ahead.now(), Timestamp::from_millis(7_210_000));
        assert_eq!(behind.now(), Timestamp::from_millis(6_000));
        inner.advance(Duration::from_secs(1));
        assert_eq!(ahead.now(), Timestamp::from_millis(7_211_000), "it follows the inner clock");
        assert_eq!(behind.now(), Timestamp::from_millis(7_000));
        assert_eq!(ahead.offset_ms(), 7_200_000);
    }

    #[test]
    fn a_skew_past_the_range_saturates() {
        let end = SkewedClock::new(Arc::new(ManualClock::new(Timestamp::from_millis(i64::MAX - 1))), 10);
        assert_eq!(end.now(), Timestamp::from_millis(i64::MAX));
        let start = SkewedClock::new(Arc::new(ManualClock::new(Timestamp::from_millis(i64::MIN + 1))), -10);
        assert_eq!(start.now(), Timestamp::from_millis(i64::MIN));
    }

    #[test]
    fn system_clock_is_after_2025() {
        assert!(SystemClock.now() > Timestamp::from_millis(1_735_689_600_000));
    }
}
