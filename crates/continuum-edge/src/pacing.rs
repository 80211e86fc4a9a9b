//! How a document's downstream paces itself, pure: [`Backoff`], the growing wait between
//! attempts to reach the origin, and [`Linger`], when a document without devices lets its
//! downstream go.

use std::time::{Duration, Instant};

/// Exponential backoff with jitter: waits double from `first` up to `max`, each drawn from
/// [`Backoff::JITTER`] below the nominal wait to the wait itself, so that the downstreams of
/// many documents, cut together, do not all come back at once.
#[derive(Clone, Debug)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    /// The share of a wait taken off at random at most.
    pub const JITTER: f64 = 0.5;

    /// Starting at `first`, growing up to `max`.
    pub fn new(first: Duration, max: Duration) -> Self {
        Self { first, max, next: first }
    }

    /// The wait before the next attempt, for a uniform draw `random` in `[0, 1)`; the one after
    /// it is twice as long, up to the maximum.
    pub fn next(&mut self, random: f64) -> Duration {
        let nominal = self.next;
        self.next = (self.next * 2).min(self.max);
        nominal.mul_f64(1.0 - Self::JITTER * random.clamp(0.0, 1.0))
    }

    /// The origin answered: the next wait starts from the first again.
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

/// When a document's downstream may let go: once it has had no device for `linger` on end.
#[derive(Clone, Debug)]
pub struct Linger {
    linger: Duration,
    /// Since when the document has had no device, as last looked at.
    idle_since: Option<Instant>,
}

impl Linger {
    /// Lets go after `linger` without a device.
    pub fn new(linger: Duration) -> Self {
        Self { linger, idle_since: None }
    }

    /// The document has `peers` devices at `now`: whether the downstream may let go.
    pub fn due(&mut self, peers: usize, now: Instant) -> bool {
        if peers > 0 {
            self.idle_since = None;
            return false;
        }
        let since = *self.idle_since.get_or_insert(now);
        now.saturating_duration_since(since) >= self.linger
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_maximum_with_jitter_below_and_reset_starts_over() {
        let ms = Duration::from_millis;
        let mut backoff = Backoff::new(ms(100), ms(1000));
        let waits: Vec<Duration> = (0..6).map(|_| backoff.next(0.0)).collect();
        assert_eq!(waits, [ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]);
        assert_eq!(backoff.next(0.999_999).as_millis(), 500, "at most half taken off");
        assert_eq!(backoff.next(7.0), ms(500), "a draw out of range is clamped");
        backoff.reset();
        assert_eq!(backoff.next(0.5), ms(75));
    }

    #[test]
    fn a_downstream_lets_go_only_after_a_whole_linger_without_devices() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut linger = Linger::new(Duration::from_millis(500));
        assert!(!linger.due(2, at(0)));
        assert!(!linger.due(0, at(100)), "the first look without devices starts the linger");
        assert!(!linger.due(0, at(599)));
        assert!(!linger.due(1, at(600)), "a device came back");
        assert!(!linger.due(0, at(700)));
        assert!(!linger.due(0, at(1100)));
        assert!(linger.due(0, at(1200)));
        assert!(Linger::new(Duration::ZERO).due(0, at(0)));
    }
}
