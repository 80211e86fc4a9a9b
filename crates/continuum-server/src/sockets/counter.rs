//! [`SocketCounter`]: the sync sockets each session holds, so one session cannot hold unbounded
//! sockets, all of them close at once when the session ends, and one node-wide session check
//! serves all of them (see [`super::session_check`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use continuum_core::SessionId;
use dashmap::DashMap;
use tokio_util::sync::CancellationToken;

/// Who holds a sync socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SocketOwner {
    /// A client session: its sockets close when it ends, and it is checked while they are open.
    Session(SessionId),
    /// A trusted backend (by API key): no session to check; all backends share one count.
    Backend,
    /// An edge's downstream from this origin (by API key): no session to check; all edges
    /// share one count, apart from other backends'.
    Edge,
}

/// What every socket of one owner shares.
#[derive(Debug)]
struct Watch {
    /// Cancelled when the session ends, and (a child of the server's shutdown token) when the
    /// server shuts down.
    ended: CancellationToken,
    /// Whether a socket of the session received a message since the last session check.
    active: AtomicBool,
}

/// The sockets of one owner.
#[derive(Debug)]
struct Held {
    count: usize,
    watch: Arc<Watch>,
}

/// How the session check probes one session in a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// A socket of the session received a message since the last round: that is activity, so
    /// the check touches the session (lazily, as a validation does) and a user working only
    /// through the socket is not logged out as idle.
    Touch,
    /// No activity since the last round: only read whether the session is still live.
    Read,
}

/// Open sockets by owner.
#[derive(Debug, Default)]
pub struct SocketCounter {
    open: DashMap<SocketOwner, Held>,
    /// The parent of every owner's `ended` token.
    shutdown: CancellationToken,
}

/// One counted socket; dropping it frees the slot.
#[derive(Debug)]
pub struct SocketSlot {
    counter: Arc<SocketCounter>,
    owner: SocketOwner,
    watch: Arc<Watch>,
}

impl SocketSlot {
    /// Cancelled when [`SocketCounter::end`] is called for this socket's session, or when the
    /// shutdown token the counter was made with is cancelled (tell them apart by that token).
    pub fn ended(&self) -> &CancellationToken {
        &self.watch.ended
    }

    /// Records that the client sent something: the next session check touches the session.
    pub fn mark_active(&self) {
        self.watch.active.store(true, Ordering::Relaxed);
    }
}

impl SocketCounter {
    /// A counter whose sockets also end when `shutdown` is cancelled.
    pub fn new(shutdown: CancellationToken) -> Self {
        Self { open: DashMap::new(), shutdown }
    }

    /// Takes a slot for `owner` unless it already holds `max` sockets.
    pub fn acquire(self: &Arc<Self>, owner: SocketOwner, max: usize) -> Option<SocketSlot> {
        let mut held = self.open.entry(owner).or_insert_with(|| Held {
            count: 0,
            watch: Arc::new(Watch { ended: self.shutdown.child_token(), active: AtomicBool::new(false) }),
        });
        if held.count >= max {
            return None;
        }
        held.count += 1;
        Some(SocketSlot { counter: Arc::clone(self), owner, watch: Arc::clone(&held.watch) })
    }

    /// Sockets `sid` holds now.
    pub fn count(&self, sid: &SessionId) -> usize {
        self.open.get(&SocketOwner::Session(*sid)).map_or(0, |held| held.count)
    }

    /// The session `sid` ended: every socket it holds is told to close. Returns how many.
    pub fn end(&self, sid: &SessionId) -> usize {
        self.open.get(&SocketOwner::Session(*sid)).map_or(0, |held| {
            held.watch.ended.cancel();
            held.count
        })
    }

    /// The sessions a check round probes: one entry per session with an open socket, however
    /// many it holds, unless it already ended; with the probe its activity since the previous
    /// call calls for. Clears that activity. Backends have no session and are never listed.
    pub fn due_checks(&self) -> Vec<(SessionId, Probe)> {
        self.open
            .iter()
            .filter_map(|entry| {
                let SocketOwner::Session(sid) = *entry.key() else { return None };
                let watch = &entry.value().watch;
                if watch.ended.is_cancelled() {
                    return None;
                }
                let active = watch.active.swap(false, Ordering::Relaxed);
                Some((sid, if active { Probe::Touch } else { Probe::Read }))
            })
            .collect()
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        self.counter.open.remove_if_mut(&self.owner, |_, held| {
            held.count -= 1;
            held.count == 0
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(sid: SessionId) -> SocketOwner {
        SocketOwner::Session(sid)
    }

    #[test]
    fn slots_are_bounded_per_session_and_freed_on_drop() {
        let counter = Arc::new(SocketCounter::default());
        let (a, b) = (SessionId::generate(), SessionId::generate());
        let first = counter.acquire(session(a), 2).unwrap();
        let _second = counter.acquire(session(a), 2).unwrap();
        assert!(counter.acquire(session(a), 2).is_none());
        let _other = counter.acquire(session(b), 2).unwrap();
        drop(first);
        assert_eq!(counter.count(&a), 1);
        assert!(counter.acquire(session(a), 2).is_some());
    }

    #[test]
    fn ending_a_session_signals_its_sockets_only() {
        let counter = Arc::new(SocketCounter::default());
        let (a, b) = (SessionId::generate(), SessionId::generate());
        let (first, second, other) = (
            counter.acquire(session(a), 4).unwrap(),
            counter.acquire(session(a), 4).unwrap(),
            counter.acquire(session(b), 4).unwrap(),
        );
        assert_eq!(counter.end(&a), 2);
        assert!(first.ended().is_cancelled() && second.ended().is_cancelled());
        assert!(!other.ended().is_cancelled());
        assert_eq!(counter.end(&SessionId::generate()), 0, "a session without sockets");
        drop((first, second));
        let again = counter.acquire(session(a), 4).unwrap();
        assert!(!again.ended().is_cancelled(), "a later socket starts afresh (opening checks the session)");
    }

    #[test]
    fn shutdown_ends_every_socket_backends_included() {
        let shutdown = CancellationToken::new();
        let counter = Arc::new(SocketCounter::new(shutdown.clone()));
        let client = counter.acquire(session(SessionId::generate()), 4).unwrap();
        let backend = counter.acquire(SocketOwner::Backend, 4).unwrap();
        assert!(!client.ended().is_cancelled() && !backend.ended().is_cancelled());
        shutdown.cancel();
        assert!(client.ended().is_cancelled() && backend.ended().is_cancelled());
        let late = counter.acquire(session(SessionId::generate()), 4).unwrap();
        assert!(late.ended().is_cancelled(), "a socket opened during shutdown ends at once");
    }

    fn sorted(mut checks: Vec<(SessionId, Probe)>) -> Vec<(SessionId, Probe)> {
        checks.sort_by_key(|(sid, _)| *sid);
        checks
    }

    #[test]
    fn one_check_per_session_touching_only_sessions_active_since_the_last_round() {
        let counter = Arc::new(SocketCounter::default());
        let (busy, quiet) = (SessionId::generate(), SessionId::generate());
        let busy_sockets: Vec<_> = (0..3).map(|_| counter.acquire(session(busy), 4).unwrap()).collect();
        let _quiet_socket = counter.acquire(session(quiet), 4).unwrap();
        let _backend = counter.acquire(SocketOwner::Backend, 4).unwrap();

        busy_sockets[1].mark_active();
        assert_eq!(
            sorted(counter.due_checks()),
            sorted(vec![(busy, Probe::Touch), (quiet, Probe::Read)]),
            "one entry per session, whichever of its sockets was active; no backend"
        );
        assert_eq!(
            sorted(counter.due_checks()),
            sorted(vec![(busy, Probe::Read), (quiet, Probe::Read)]),
            "activity counts for one round only"
        );
    }

    #[test]
    fn ended_and_closed_sessions_are_not_checked() {
        let counter = Arc::new(SocketCounter::default());
        let (ended, closed, open) = (SessionId::generate(), SessionId::generate(), SessionId::generate());
        let _ended_socket = counter.acquire(session(ended), 4).unwrap();
        let closed_socket = counter.acquire(session(closed), 4).unwrap();
        let _open_socket = counter.acquire(session(open), 4).unwrap();
        counter.end(&ended);
        drop(closed_socket);
        assert_eq!(counter.due_checks(), vec![(open, Probe::Read)]);
    }
}
