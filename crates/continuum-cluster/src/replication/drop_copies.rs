//! [`DropCopies`]: the `drop-copies` fault mode (feature `fault-modes`, tests only) — a backup
//! that acknowledges every [`EVERY`]th copy a primary sends it without storing it.
//!
//! Counted are the copies of the write path a backup takes once it has checked they come from
//! the primary of its own view: a session's (insert, replace, touch: `Put`), an epoch's raise,
//! a document's append and version. Each is answered as if stored, so the primary acknowledges
//! the write to its client; the backup just lacks it, which shows once the primary is gone.
//! Handoffs after a membership change, copies fetched on a miss and catch-up are not counted
//! and work as always.

use std::sync::atomic::{AtomicU64, Ordering};

/// One copy in this many is dropped: the 10th, the 20th, …
pub const EVERY: u64 = 10;

/// How many write-path copies this backup has taken, to drop every [`EVERY`]th.
#[derive(Debug, Default)]
pub struct DropCopies {
    taken: AtomicU64,
}

impl DropCopies {
    /// Counts one more copy; whether it is to be dropped (every [`EVERY`]th one).
    pub fn drops_next(&self) -> bool {
        (self.taken.fetch_add(1, Ordering::Relaxed) + 1).is_multiple_of(EVERY)
    }

    /// How many copies were counted so far.
    pub fn taken(&self) -> u64 {
        self.taken.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tenth_copy_is_dropped_and_no_other() {
        let drops = DropCopies::default();
        let dropped: Vec<u64> = (1..=30).filter(|_| drops.drops_next()).collect();
        assert_eq!(dropped.len(), 3);
        let again = DropCopies::default();
        let which: Vec<u64> = (1..=30).filter(|_| again.drops_next()).map(|_| again.taken()).collect();
        assert_eq!(which, [10, 20, 30]);
        assert_eq!(drops.taken(), 30);
    }
}
