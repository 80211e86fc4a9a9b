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
//!
//! The same holds the other way round: a peer that was silent for longer than [`STALL`] (paused,
//! or cut off by a partition) and is heard again may have missed writes — or this node may have
//! been the one cut off, with a view that never changed and copies the others moved past (the
//! suite saw a node back from a partition answer version 7 after version 9 was acknowledged).
//! So a peer's heartbeat moving again after such a silence distrusts this node's copies too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chitchat::{Chitchat, Heartbeat};

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
    peers: Mutex<Silences<Heartbeat>>,
}

/// Each peer's last heartbeat and when it last moved.
#[derive(Debug)]
pub struct Silences<H> {
    seen: HashMap<String, (H, Instant)>,
}

impl<H: PartialEq> Silences<H> {
    /// Nothing seen yet.
    pub fn new() -> Self {
        Self { seen: HashMap::new() }
    }

    /// Notes `peer`'s heartbeat at `now`; returns how long it had been silent when it moves
    /// again after more than [`STALL`].
    pub fn observe(&mut self, peer: &str, heartbeat: H, now: Instant) -> Option<Duration> {
        match self.seen.get_mut(peer) {
            Some((last, _)) if *last == heartbeat => None,
            Some((last, since)) => {
                let silent = now.saturating_duration_since(*since);
                *last = heartbeat;
                *since = now;
                (silent > STALL).then_some(silent)
            }
            None => {
                self.seen.insert(peer.to_owned(), (heartbeat, now));
                None
            }
        }
    }
}

impl<H: PartialEq> Default for Silences<H> {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Clone, Copy, Debug)]
struct State {
    last_tick: Instant,
    distrust_until: Option<Instant>,
}

impl StallWatch {
    /// A watch whose first tick is `now`.
    pub fn new(now: Instant) -> Self {
        Self {
            state: Mutex::new(State { last_tick: now, distrust_until: None }),
            peers: Mutex::new(Silences::new()),
        }
    }

    /// Distrusts this node's copies from `now` for [`DISTRUST`] (or twice `silence`).
    fn distrust(&self, now: Instant, silence: Duration) {
        let mut state = self.state.lock().expect("never poisoned: no panics while held");
        let until = now + DISTRUST.max(silence * 2);
        state.distrust_until = Some(state.distrust_until.map_or(until, |held| held.max(until)));
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

    /// Ticks every [`TICK`] until `cancel`, logging each stall it sees, and watches the peers'
    /// heartbeats in `chitchat` for one that comes back from a silence.
    pub async fn run(&self, chitchat: Arc<tokio::sync::Mutex<Chitchat>>, cancel: CancellationToken) {
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
            let heartbeats: Vec<(String, Heartbeat)> = {
                let chitchat = chitchat.lock().await;
                let me = chitchat.self_chitchat_id().node_id.clone();
                chitchat
                    .node_states()
                    .iter()
                    .filter(|(id, _)| id.node_id != me)
                    .map(|(id, state)| (id.node_id.to_string(), state.heartbeat()))
                    .collect()
            };
            let now = Instant::now();
            for (peer, heartbeat) in heartbeats {
                let back = self
                    .peers
                    .lock()
                    .expect("never poisoned: no panics while held")
                    .observe(&peer, heartbeat, now);
                if let Some(silence) = back {
                    tracing::warn!(
                        %peer,
                        silent_ms = silence.as_millis() as u64,
                        "a peer is heard again after a silence; this node's copies are read through the other owners for a while"
                    );
                    self.distrust(now, silence);
                }
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
    fn a_peer_heard_again_after_a_silence_is_reported_once_and_a_steady_one_never() {
        let start = Instant::now();
        let mut silences = Silences::new();
        assert_eq!(silences.observe("a", 1u64, start), None);
        assert_eq!(silences.observe("a", 2, start + TICK), None);
        // Silent for 2 s (the same heartbeat), then it moves.
        assert_eq!(silences.observe("a", 2, start + Duration::from_secs(1)), None);
        assert_eq!(
            silences.observe("a", 3, start + TICK + Duration::from_secs(2)),
            Some(Duration::from_secs(2))
        );
        assert_eq!(silences.observe("a", 4, start + TICK * 2 + Duration::from_secs(2)), None);

        let watch = StallWatch::new(start);
        watch.distrust(start, Duration::from_secs(2));
        watch.tick(start + TICK);
        assert!(!watch.trusts(start + TICK));
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
