//! [`EdgeMarks`]: what the origin knows of each edge that replays to it — the highest queue seq
//! it has answered for (its high-water mark) and how many entries it applied and refused — kept
//! in `<data>/edge-marks/<edge id>`, one small file per edge, replaced atomically (written,
//! fsynced, renamed, the directory fsynced).
//!
//! Durability: a mark returned by [`EdgeMarks::store`] survives a crash and a power loss of the
//! origin. It is written after the replayed updates are durable in the document store, so an
//! origin crash between the two makes the edge send them again: the replay finds the document
//! already holding all of each (a Yjs update's items apply once), appends nothing and counts
//! them as `already_held`, not again in `applied`. Every entry up to the mark is counted once,
//! in exactly one of `applied`, `already_held` and `refused`.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// One edge's mark and counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mark {
    /// The highest seq answered for: entries up to it were applied or refused.
    pub mark: u64,
    /// Entries applied, in total.
    pub applied: u64,
    /// Entries refused, in total.
    pub refused: u64,
    /// Entries whose content the document already had (an earlier replay whose mark was not
    /// written, or the edge's live sync of the same document), in total.
    pub already_held: u64,
}

/// Why a mark could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("cannot read or write the edge mark {path}")]
pub struct MarkError {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

/// The marks of every edge, in a directory. Replays of one edge are serialized by its lock.
#[derive(Debug)]
pub struct EdgeMarks {
    dir: PathBuf,
    edges: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Mark>>>>>,
}

impl EdgeMarks {
    /// Marks kept in `dir` (created on first write).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir, edges: Mutex::default() }
    }

    /// The lock of `edge`'s mark; `None` inside until read with [`EdgeMarks::load`].
    pub fn lock_of(&self, edge: &str) -> Arc<tokio::sync::Mutex<Option<Mark>>> {
        let mut edges = self.edges.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(edges.entry(edge.to_owned()).or_default())
    }

    /// `edge`'s stored mark (zeros if it never replayed). `edge` must be a valid edge id (no
    /// path separators).
    pub fn load(&self, edge: &str) -> Result<Mark, MarkError> {
        let path = self.dir.join(edge);
        let error = |source| MarkError { path: path.clone(), source };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(io) if io.kind() == std::io::ErrorKind::NotFound => return Ok(Mark::default()),
            Err(io) => return Err(error(io)),
        };
        let numbers: Vec<u64> = text.split_whitespace().filter_map(|n| n.parse().ok()).collect();
        match numbers.as_slice() {
            // Three numbers: a mark written before `already_held` was counted.
            [mark, applied, refused] => {
                Ok(Mark { mark: *mark, applied: *applied, refused: *refused, already_held: 0 })
            }
            [mark, applied, refused, already_held] => {
                Ok(Mark { mark: *mark, applied: *applied, refused: *refused, already_held: *already_held })
            }
            _ => {
                Err(error(std::io::Error::new(std::io::ErrorKind::InvalidData, "not three or four numbers")))
            }
        }
    }

    /// Replaces `edge`'s stored mark, durably.
    pub fn store(&self, edge: &str, mark: Mark) -> Result<(), MarkError> {
        let path = self.dir.join(edge);
        let error = |source| MarkError { path: path.clone(), source };
        continuum_store::private_fs::ensure_private_dir(&self.dir).map_err(error)?;
        let temporary = self.dir.join(format!(".{edge}.new"));
        let mut file = std::fs::File::create(&temporary).map_err(error)?;
        writeln!(file, "{} {} {} {}", mark.mark, mark.applied, mark.refused, mark.already_held)
            .map_err(error)?;
        file.sync_all().map_err(error)?;
        std::fs::rename(&temporary, &path).map_err(error)?;
        std::fs::File::open(&self.dir).and_then(|dir| dir.sync_all()).map_err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_is_zero_until_stored_and_survives_a_new_instance() {
        let dir = std::env::temp_dir().join(format!("continuum-marks-{}", std::process::id()));
        let marks = EdgeMarks::new(dir.clone());
        assert_eq!(marks.load("paris").unwrap(), Mark::default());
        let mark = Mark { mark: 12, applied: 9, refused: 2, already_held: 1 };
        marks.store("paris", mark).unwrap();
        assert_eq!(EdgeMarks::new(dir.clone()).load("paris").unwrap(), mark);
        std::fs::write(dir.join("nice"), "7 5 2\n").unwrap();
        let older = Mark { mark: 7, applied: 5, refused: 2, already_held: 0 };
        assert_eq!(marks.load("nice").unwrap(), older, "a mark of three numbers, from before");
        std::fs::write(dir.join("lyon"), "x").unwrap();
        assert!(marks.load("lyon").is_err(), "a damaged mark is an error, never zero");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
