//! [`StallWatch`]: notices that this node stood still — SIGSTOP, a frozen VM, a pause as long as
//! a garbage collector's — and distrusts its own copies for a while after.
//!
//! While a node stands still the others may take it for dead, move its keys and write without
//! it; when it runs again its view is the old one until gossip catches up, and a read answered
//! from its own copy could show what the cluster has long overwritten (the fault suite found
//! exactly that: a backup paused for 2 s answered version 14 of a session after its primary had
//! acknowledged version 15). A ticker notes the time every [`TICK`]; a gap longer than
//! [`STALL`] between two ticks, or a tick overdue by that much when a read asks, means the node
//! stood still, and its copies are not trusted for [`DISTRUST`] (or twice the stall, if longer):
//! reads ask the key's other owners and keep the newest, as while catching up.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// How often the ticker notes the time.
pub const TICK: Duration = Duration::from_millis(100);
/// A gap between ticks longer than this is a stall: well under the time the others need to take
/// a silent node for dead (phi-accrual over 100 ms heartbeats).
pub const STALL: Duration = Duration::from_millis(500);
/// How long copies stay distrusted after a stall: long enough for gossip to bring the view up
/// to date and for a transfer to start.
pub const DISTRUST: Duration = Duration::from_secs(3);

/// The ticker's notes. Cheap to read on every local read.
#[derive(Debug)]
pub struct StallWatch {
    state: Mutex<State>,
}

#[derive(Clone, Copy, Debug)]
struct State {
    last_tick: Instant,
    distrust_until: Option<Instant>,
}

impl StallWatch {
    /// A watch whose first tick is `now`.
    pub fn new(now: Instant) -> Self {
        Self { state: Mutex::new(State { last_tick: now, distrust_until: None }) }
    }

    /// Whether this node's copies may be read at `now`.
    pub fn trusts(&self, now: Instant) -> bool {
        let state = *self.state.lock().expect("never poisoned: no panics while held");
        trusts(state, now)
    }

    /// The ticker's note at `now`; returns the stall it ended, if there was one.
    pub fn tick(&self, now: Instant) -> Option<Duration> {
        let mut state = self.state.lock().expect("never poisoned: no panics while held");
        let (next, stall) = after_tick(*state, now);
        *state = next;
        stall
    }

    /// Ticks every [`TICK`] until `cancel`, logging each stall it sees.
    pub async fn run(&self, cancel: CancellationToken) {
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                () = cancel.cancelled() => return,
            }
            if let Some(stall) = self.tick(Instant::now()) {
                tracing::warn!(
                    stall_ms = stall.as_millis() as u64,
                    "this node stood still; its copies are read through the other owners for a while"
                );
            }
        }
    }
}

fn trusts(state: State, now: Instant) -> bool {
    let overdue = now.saturating_duration_since(state.last_tick) > STALL;
    let distrusted = state.distrust_until.is_some_and(|until| now < until);
    !overdue && !distrusted
}

fn after_tick(state: State, now: Instant) -> (State, Option<Duration>) {
    let gap = now.saturating_duration_since(state.last_tick);
    if gap <= STALL {
        return (State { last_tick: now, ..state }, None);
    }
    let until = now + DISTRUST.max(gap * 2);
    (State { last_tick: now, distrust_until: Some(until) }, Some(gap))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_ticks_keep_trust_and_a_stall_loses_it_at_once_and_for_a_while() {
        let start = Instant::now();
        let watch = StallWatch::new(start);
        let mut now = start;
        for _ in 0..10 {
            now += TICK;
            assert_eq!(watch.tick(now), None);
            assert!(watch.trusts(now));
        }
        // Frozen for 2 s: a read served before the ticker runs again already distrusts.
        now += Duration::from_secs(2);
        assert!(!watch.trusts(now));
        assert_eq!(watch.tick(now), Some(Duration::from_secs(2)));
        // Twice the stall (4 s) is longer than DISTRUST: still distrusted at 3.9 s.
        for _ in 0..39 {
            now += TICK;
            watch.tick(now);
            assert!(!watch.trusts(now), "{:?} after the stall", now - start);
        }
        now += Duration::from_millis(200);
        watch.tick(now);
        assert!(watch.trusts(now));
    }

    #[test]
    fn a_short_stall_is_distrusted_for_the_minimum() {
        let start = Instant::now();
        let watch = StallWatch::new(start);
        let after = start + Duration::from_millis(600);
        assert!(watch.tick(after).is_some());
        let mut now = after;
        while now + TICK < after + DISTRUST {
            now += TICK;
            assert_eq!(watch.tick(now), None);
            assert!(!watch.trusts(now));
        }
        now = after + DISTRUST;
        watch.tick(now);
        assert!(watch.trusts(now));
    }
}
