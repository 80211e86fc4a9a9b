//! [`FailureThrottle`]: refuse a client that failed too often recently (fixed window), as a pure
//! decision over explicit times.

use std::time::Duration;

use crate::time::Timestamp;

/// Failures of one client inside the current window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FailureWindow {
    /// When the window opened.
    pub started: Timestamp,
    /// Failures counted in it.
    pub failures: u32,
}

/// At most `max_failures` failures per `window`; past that, attempts wait for the window's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureThrottle {
    /// Failures allowed per window.
    pub max_failures: u32,
    /// The window's length.
    pub window: Duration,
}

impl FailureThrottle {
    /// `Ok` if an attempt may be made at `now`, or how long to wait.
    pub fn check(&self, state: &FailureWindow, now: Timestamp) -> Result<(), Duration> {
        let ends = state.started + self.window;
        if now >= ends || state.failures < self.max_failures {
            return Ok(());
        }
        Err(ends.saturating_since(now))
    }

    /// The state after a failure at `now`.
    pub fn record_failure(&self, state: FailureWindow, now: Timestamp) -> FailureWindow {
        if now >= state.started + self.window {
            return FailureWindow { started: now, failures: 1 };
        }
        FailureWindow { started: state.started, failures: state.failures + 1 }
    }

    /// Whether the state can be forgotten at `now` (its window has passed).
    pub fn is_stale(&self, state: &FailureWindow, now: Timestamp) -> bool {
        now >= state.started + self.window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_max_failures_until_the_window_ends() {
        let throttle = FailureThrottle { max_failures: 3, window: Duration::from_secs(60) };
        let t0 = Timestamp::from_millis(1_000_000);
        let mut state = FailureWindow::default();
        for i in 0..3 {
            let now = t0 + Duration::from_secs(i);
            assert!(throttle.check(&state, now).is_ok());
            state = throttle.record_failure(state, now);
        }
        assert_eq!(throttle.check(&state, t0 + Duration::from_secs(10)), Err(Duration::from_secs(50)));
        assert!(throttle.check(&state, t0 + Duration::from_secs(60)).is_ok());
        assert!(throttle.is_stale(&state, t0 + Duration::from_secs(60)));
        let fresh = throttle.record_failure(state, t0 + Duration::from_secs(61));
        assert_eq!(fresh.failures, 1);
    }
}
