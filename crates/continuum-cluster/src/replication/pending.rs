//! [`Pending`]: the session copies a backup took whose write its primary has not confirmed yet,
//! without I/O.
//!
//! A primary copies a write to its backups, then applies it, answers, and confirms it to them
//! (`Request::Committed`). A primary killed between two backups' copies leaves the new version
//! on some and not on others, and since backups answer reads from their own copies one node
//! could show the newer version and another, a moment later, the older (the fault suite saw it
//! with `replicas = all`). So a copy is *pending* from the moment a backup takes it until the
//! confirmation; a read that would answer a pending copy first hands it to every other owner
//! (they keep the newer), so no owner can answer older afterwards — the read completes the
//! write its primary could not — and only then answers.

use std::collections::HashMap;

use continuum_core::SessionId;

/// The unconfirmed copies this node holds: sid → the highest unconfirmed version.
#[derive(Debug, Default)]
pub struct Pending {
    versions: HashMap<SessionId, u64>,
}

impl Pending {
    /// Notes that a copy of `sid` at `version` was taken. The table holds the writes in flight
    /// and those whose confirmation was lost with their primary (a mark is dropped when the key
    /// is next read or written), so it stays small without a bound.
    pub fn mark(&mut self, sid: SessionId, version: u64) {
        let held = self.versions.entry(sid).or_insert(version);
        *held = (*held).max(version);
    }

    /// Drops the mark of `sid`: its copy is on every owner now.
    pub fn clear(&mut self, sid: &SessionId) {
        self.versions.remove(sid);
    }

    /// The primary confirmed `sid` at `version`: a mark at or below it is dropped (a mark for a
    /// later version, whose confirmation is still on its way, stays).
    pub fn confirm(&mut self, sid: &SessionId, version: u64) {
        if self.versions.get(sid).is_some_and(|held| *held <= version) {
            self.versions.remove(sid);
        }
    }

    /// The unconfirmed version of `sid`, if there is one.
    pub fn of(&self, sid: &SessionId) -> Option<u64> {
        self.versions.get(sid).copied()
    }

    /// How many copies are unconfirmed.
    pub fn len(&self) -> usize {
        self.versions.len()
    }

    /// Whether every copy is confirmed.
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(byte: u8) -> SessionId {
        SessionId::from_bytes([byte; 16])
    }

    #[test]
    fn a_confirmation_drops_its_version_and_the_ones_before_but_not_a_later_one() {
        let mut pending = Pending::default();
        pending.mark(sid(1), 3);
        pending.mark(sid(1), 4);
        pending.confirm(&sid(1), 3);
        assert_eq!(pending.of(&sid(1)), Some(4), "the copy of version 4 is not confirmed yet");
        pending.confirm(&sid(1), 4);
        assert_eq!(pending.of(&sid(1)), None);
        pending.mark(sid(2), 7);
        pending.confirm(&sid(2), 9);
        assert!(pending.is_empty());
    }

    #[test]
    fn a_late_mark_of_an_older_copy_keeps_the_newer_version() {
        let mut pending = Pending::default();
        pending.mark(sid(1), 5);
        pending.mark(sid(1), 2);
        assert_eq!(pending.of(&sid(1)), Some(5));
    }
}
