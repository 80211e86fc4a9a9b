//! [`QueueAges`]: when the entries of the edge's queue were pushed — the age of the oldest one
//! the origin has not answered for yet, for `/metrics`. Pure bookkeeping; kept in memory only.
//!
//! Entries carry no time on disk (the queue's format is unchanged). Instead the queue records
//! one mark per [`GRAIN`] in which anything was pushed: the first seq pushed in it and when.
//! Seqs grow with time, so the oldest unanswered entry was pushed at or after the time of the
//! last mark at or before its seq, and less than a grain after it: the age shown is at most a
//! grain too old, never too young. Memory is one mark (16 bytes) per grain of pushes still
//! waiting — a day-long outage with pushes every second holds 86,400 marks, about 1.4 MiB.
//! Entries queued before the process started are dated from its start (their time is not on
//! disk): their age is counted from then, too young by the time the edge was down.

use std::collections::VecDeque;
use std::time::Duration;

use continuum_core::Timestamp;

/// Pushes within one grain share a mark.
pub const GRAIN: Duration = Duration::from_secs(1);

/// The marks of one queue.
#[derive(Debug, Default)]
pub struct QueueAges {
    /// `(first seq pushed, when)`, in seq order; the front covers the oldest waiting entry.
    marks: VecDeque<(u64, Timestamp)>,
    /// The last seq pushed.
    last: u64,
    /// The origin's mark: every seq up to it is answered for.
    acked: u64,
}

impl QueueAges {
    /// At start: the origin's mark `acked`, and the entries `first..=last` waiting since `now`
    /// (none when `last <= acked`).
    pub fn new(acked: u64, last: u64, now: Timestamp) -> Self {
        let mut ages = Self { marks: VecDeque::new(), last: acked.max(last), acked };
        if last > acked {
            ages.marks.push_back((acked + 1, now));
        }
        ages
    }

    /// Seqs `first..=last` were pushed at `now`.
    pub fn pushed(&mut self, first: u64, last: u64, now: Timestamp) {
        self.last = self.last.max(last);
        let same_grain = self.marks.back().is_some_and(|(_, at)| now.saturating_since(*at) < GRAIN);
        if !same_grain {
            self.marks.push_back((first, now));
        }
    }

    /// The origin answered for every seq up to `through`.
    pub fn acknowledged(&mut self, through: u64) {
        self.acked = self.acked.max(through);
        // A mark is needed while the next mark starts after the oldest waiting seq.
        while self.marks.len() > 1 && self.marks[1].0 <= self.acked + 1 {
            self.marks.pop_front();
        }
        if self.acked >= self.last {
            self.marks.clear();
        }
    }

    /// How long the oldest entry the origin has not answered for has waited, at `now`; zero
    /// when none waits.
    pub fn oldest_age(&self, now: Timestamp) -> Duration {
        match self.marks.front() {
            Some((_, at)) if self.acked < self.last => now.saturating_since(*at),
            _ => Duration::ZERO,
        }
    }

    /// Marks held (for tests and the memory bound).
    pub fn marks(&self) -> usize {
        self.marks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: f64) -> Timestamp {
        Timestamp::from_millis((seconds * 1000.0) as i64)
    }

    #[test]
    fn the_age_is_of_the_oldest_waiting_entry_and_never_too_young() {
        let mut ages = QueueAges::new(0, 0, at(0.0));
        assert_eq!(ages.oldest_age(at(5.0)), Duration::ZERO, "nothing waits");
        ages.pushed(1, 3, at(10.0));
        ages.pushed(4, 4, at(10.5)); // the same grain: no new mark
        ages.pushed(5, 9, at(12.0));
        ages.pushed(10, 10, at(20.0));
        assert_eq!(ages.marks(), 3);
        assert_eq!(ages.oldest_age(at(30.0)), Duration::from_secs(20));
        ages.acknowledged(3);
        // Seq 4 was pushed at 10.5, shown as 10.0: at most a grain too old.
        assert_eq!(ages.oldest_age(at(30.0)), Duration::from_secs(20));
        ages.acknowledged(4);
        assert_eq!(ages.oldest_age(at(30.0)), Duration::from_secs(18), "seq 5 is the oldest");
        ages.acknowledged(9);
        assert_eq!(ages.oldest_age(at(30.0)), Duration::from_secs(10));
        ages.acknowledged(8); // never back
        assert_eq!(ages.oldest_age(at(30.0)), Duration::from_secs(10));
        ages.acknowledged(10);
        assert_eq!((ages.oldest_age(at(30.0)), ages.marks()), (Duration::ZERO, 0));
        ages.pushed(11, 11, at(31.0));
        assert_eq!(ages.oldest_age(at(33.5)), Duration::from_millis(2500));
    }

    #[test]
    fn entries_from_before_the_start_are_dated_from_it() {
        let mut ages = QueueAges::new(4, 9, at(100.0));
        assert_eq!(ages.oldest_age(at(103.0)), Duration::from_secs(3));
        ages.pushed(10, 10, at(104.0));
        ages.acknowledged(9);
        assert_eq!(ages.oldest_age(at(105.0)), Duration::from_secs(1));
        assert_eq!(QueueAges::new(9, 9, at(0.0)).oldest_age(at(50.0)), Duration::ZERO);
    }

    #[test]
    fn marks_stay_one_per_grain_of_pushes() {
        let mut ages = QueueAges::new(0, 0, at(0.0));
        for n in 0..10_000u64 {
            ages.pushed(n + 1, n + 1, Timestamp::from_millis(n as i64 * 10)); // 100 pushes a second
        }
        assert_eq!(ages.marks(), 100);
    }
}
