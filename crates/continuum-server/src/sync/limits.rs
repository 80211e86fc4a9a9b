//! [`SocketCounter`]: the sync sockets each session holds, so one session cannot hold unbounded
//! sockets, and so all of them close at once when the session ends.

use std::sync::Arc;

use continuum_core::SessionId;
use dashmap::DashMap;
use tokio_util::sync::CancellationToken;

/// The sockets of one session.
#[derive(Debug)]
struct Held {
    count: usize,
    /// Cancelled when the session ends.
    ended: CancellationToken,
}

/// Open sockets by session.
#[derive(Debug, Default)]
pub struct SocketCounter {
    open: DashMap<SessionId, Held>,
}

/// One counted socket; dropping it frees the slot.
#[derive(Debug)]
pub struct SocketSlot {
    counter: Arc<SocketCounter>,
    sid: SessionId,
    ended: CancellationToken,
}

impl SocketSlot {
    /// Cancelled when [`SocketCounter::end`] is called for this socket's session.
    pub fn ended(&self) -> &CancellationToken {
        &self.ended
    }
}

impl SocketCounter {
    /// Takes a slot for `sid` unless it already holds `max` sockets.
    pub fn acquire(self: &Arc<Self>, sid: SessionId, max: usize) -> Option<SocketSlot> {
        let mut held =
            self.open.entry(sid).or_insert_with(|| Held { count: 0, ended: CancellationToken::new() });
        if held.count >= max {
            return None;
        }
        held.count += 1;
        Some(SocketSlot { counter: Arc::clone(self), sid, ended: held.ended.clone() })
    }

    /// Sockets `sid` holds now.
    pub fn count(&self, sid: &SessionId) -> usize {
        self.open.get(sid).map_or(0, |held| held.count)
    }

    /// The session `sid` ended: every socket it holds is told to close. Returns how many.
    pub fn end(&self, sid: &SessionId) -> usize {
        self.open.get(sid).map_or(0, |held| {
            held.ended.cancel();
            held.count
        })
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        self.counter.open.remove_if_mut(&self.sid, |_, held| {
            held.count -= 1;
            held.count == 0
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_per_session_and_freed_on_drop() {
        let counter = Arc::new(SocketCounter::default());
        let (a, b) = (SessionId::generate(), SessionId::generate());
        let first = counter.acquire(a, 2).unwrap();
        let _second = counter.acquire(a, 2).unwrap();
        assert!(counter.acquire(a, 2).is_none());
        let _other = counter.acquire(b, 2).unwrap();
        drop(first);
        assert_eq!(counter.count(&a), 1);
        assert!(counter.acquire(a, 2).is_some());
    }

    #[test]
    fn ending_a_session_signals_its_sockets_only() {
        let counter = Arc::new(SocketCounter::default());
        let (a, b) = (SessionId::generate(), SessionId::generate());
        let (first, second, other) =
            (counter.acquire(a, 4).unwrap(), counter.acquire(a, 4).unwrap(), counter.acquire(b, 4).unwrap());
        assert_eq!(counter.end(&a), 2);
        assert!(first.ended().is_cancelled() && second.ended().is_cancelled());
        assert!(!other.ended().is_cancelled());
        assert_eq!(counter.end(&SessionId::generate()), 0, "a session without sockets");
        drop((first, second));
        let again = counter.acquire(a, 4).unwrap();
        assert!(!again.ended().is_cancelled(), "a later socket starts afresh (opening checks the session)");
    }
}
