//! [`AckTracker`]: which of a socket's updates are still waiting for their durability ack.

use std::collections::VecDeque;
use std::collections::vec_deque::Drain;

/// The updates one socket sent and the server has not yet called durable, oldest first, each
/// with a mark the caller chose (the time it was sent).
///
/// The server numbers a socket's content-bearing messages from 1 in the order it received them
/// and acks cumulatively: `Ack(n)` says the first `n` are durable. The bench's sockets never
/// answer the server's sync step 1 with content (they hold nothing the server lacks), so only
/// their updates are numbered and the n-th update sent is message n.
#[derive(Debug)]
pub struct AckTracker<T> {
    sent: u64,
    durable: u64,
    pending: VecDeque<T>,
}

impl<T> Default for AckTracker<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> AckTracker<T> {
    /// Nothing sent yet.
    pub fn new() -> Self {
        Self { sent: 0, durable: 0, pending: VecDeque::new() }
    }

    /// Notes that the next update was sent, marked with `mark`; returns its number (from 1).
    pub fn sent(&mut self, mark: T) -> u64 {
        self.sent += 1;
        self.pending.push_back(mark);
        self.sent
    }

    /// Applies `Ack(durable)` and yields the marks of the updates it newly covers, oldest first.
    /// An ack that does not move forward yields nothing; one beyond what was sent covers all.
    pub fn acked(&mut self, durable: u64) -> Drain<'_, T> {
        let durable = durable.min(self.sent);
        let newly = usize::try_from(durable.saturating_sub(self.durable)).unwrap_or(usize::MAX);
        self.durable = self.durable.max(durable);
        self.pending.drain(..newly.min(self.pending.len()))
    }

    /// Updates sent and not yet durable.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Updates sent so far.
    pub fn sent_count(&self) -> u64 {
        self.sent
    }

    /// Updates the server has called durable so far.
    pub fn durable(&self) -> u64 {
        self.durable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_acks_release_the_oldest_first() {
        let mut tracker = AckTracker::new();
        assert_eq!((tracker.sent('a'), tracker.sent('b'), tracker.sent('c')), (1, 2, 3));
        assert_eq!(tracker.in_flight(), 3);
        assert_eq!(tracker.acked(2).collect::<String>(), "ab");
        assert_eq!(tracker.in_flight(), 1);
        assert_eq!(tracker.sent('d'), 4);
        assert_eq!(tracker.acked(4).collect::<String>(), "cd");
        assert_eq!((tracker.durable(), tracker.sent_count(), tracker.in_flight()), (4, 4, 0));
    }

    #[test]
    fn stale_and_excessive_acks_are_harmless() {
        let mut tracker = AckTracker::new();
        tracker.sent(1);
        tracker.sent(2);
        assert_eq!(tracker.acked(2).count(), 2);
        assert_eq!(tracker.acked(1).count(), 0, "an older ack after a newer one");
        assert_eq!(tracker.acked(2).count(), 0, "a repeated ack");
        tracker.sent(3);
        assert_eq!(tracker.acked(99).collect::<Vec<_>>(), [3], "an ack past what was sent");
        assert_eq!(tracker.durable(), 3);
        assert_eq!(tracker.acked(0).count(), 0);
    }
}
