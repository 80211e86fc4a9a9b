//! [`SocketCounter`]: how many sync sockets each session holds, so one session cannot hold
//! unbounded sockets.

use std::sync::Arc;

use continuum_core::SessionId;
use dashmap::DashMap;

/// Open sockets by session.
#[derive(Debug, Default)]
pub struct SocketCounter {
    open: DashMap<SessionId, usize>,
}

/// One counted socket; dropping it frees the slot.
#[derive(Debug)]
pub struct SocketSlot {
    counter: Arc<SocketCounter>,
    sid: SessionId,
}

impl SocketCounter {
    /// Takes a slot for `sid` unless it already holds `max` sockets.
    pub fn acquire(self: &Arc<Self>, sid: SessionId, max: usize) -> Option<SocketSlot> {
        let mut count = self.open.entry(sid).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(SocketSlot { counter: Arc::clone(self), sid })
    }

    /// Sockets `sid` holds now.
    pub fn count(&self, sid: &SessionId) -> usize {
        self.open.get(sid).map_or(0, |count| *count)
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        self.counter.open.remove_if_mut(&self.sid, |_, count| {
            *count -= 1;
            *count == 0
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
}
