//! Slots: each lab holds an exclusive `flock` on `/run/continuum-faults/slot-<n>.lock` for as
//! long as it exists, so labs in parallel tests, or in several processes, never share names or
//! a subnet. The kernel drops the lock when its holder dies, which is how a crashed holder's
//! slot becomes free again (its leftovers are removed by the next holder).

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// Where the slot lock files live.
pub const LOCK_DIR: &str = "/run/continuum-faults";

/// Why no slot could be had.
#[derive(Debug, thiserror::Error)]
pub enum SlotError {
    /// Every slot is held by a live lab.
    #[error("all {slots} lab slots are in use (lock files in {dir})")]
    AllTaken {
        /// How many slots there are.
        slots: u8,
        /// Where their locks are.
        dir: PathBuf,
    },
    /// A lock file could not be created or locked.
    #[error("cannot lock {path}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// A slot held until this value is dropped.
#[derive(Debug)]
pub struct SlotLock {
    slot: u8,
    _file: File,
}

impl SlotLock {
    /// The slot number.
    pub fn slot(&self) -> u8 {
        self.slot
    }
}

/// Takes the lowest free slot below `slots` in `dir`. Blocking (file system calls): run it off
/// the async runtime.
pub fn acquire(dir: &Path, slots: u8) -> Result<SlotLock, SlotError> {
    std::fs::create_dir_all(dir).map_err(|source| SlotError::Lock { path: dir.to_owned(), source })?;
    for slot in 0..slots {
        let path = dir.join(format!("slot-{slot}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| SlotError::Lock { path: path.clone(), source })?;
        match file.try_lock() {
            Ok(()) => return Ok(SlotLock { slot, _file: file }),
            Err(TryLockError::WouldBlock) => continue,
            Err(TryLockError::Error(source)) => return Err(SlotError::Lock { path, source }),
        }
    }
    Err(SlotError::AllTaken { slots, dir: dir.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_slot_is_skipped_and_freed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path(), 2).unwrap();
        let second = acquire(dir.path(), 2).unwrap();
        assert_eq!((first.slot(), second.slot()), (0, 1));
        assert!(matches!(acquire(dir.path(), 2), Err(SlotError::AllTaken { slots: 2, .. })));
        drop(first);
        assert_eq!(acquire(dir.path(), 2).unwrap().slot(), 0);
    }
}
