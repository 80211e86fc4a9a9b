//! [`merge`]: what a node does with a copy of a session it receives from another node (a
//! backup write, a transfer) given the copy it holds — a decision without I/O.
//!
//! Copies are ordered by their version (every write of a session's content adds one, and a
//! revocation is such a write), then, for one version, by `last_seen_at` (touches move it
//! without a new version). So a late or repeated copy never undoes a newer one, and a revoked
//! session's tombstone is never replaced by the active copy it superseded.
//!
//! Two different copies can carry one version: a primary cut off mid-write leaves its copy on
//! some backups, and the next primary writes its own record of that version. Then a revocation
//! wins (a tombstone replaces an active copy of its version, never the reverse: the fault suite
//! found an acknowledged revocation kept out of a backup that held such a copy), and a copy
//! sent by the key's primary under the current view ([`merge_from_primary`]) replaces an active
//! copy of its version: the primary's write is the one it acknowledged.

use continuum_core::{SessionRecord, Status, Timestamp};

/// What to do with an incoming copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    /// This node has no copy: insert it.
    Insert,
    /// The incoming copy is newer: replace the held one, whose version is `expected`.
    Replace {
        /// The held copy's version.
        expected: u64,
    },
    /// Same version, seen later: move `last_seen_at` forward to `at`.
    Touch {
        /// The incoming `last_seen_at`.
        at: Timestamp,
    },
    /// The held copy is as new or newer, or the incoming one is past its purge time (a late
    /// copy of a session every node has already purged): keep what is held.
    Keep,
}

/// What to do with `incoming` when this node holds `held`, at `now`.
pub fn merge(held: Option<&SessionRecord>, incoming: &SessionRecord, now: Timestamp) -> Merge {
    if incoming.purge_at() <= now {
        return Merge::Keep;
    }
    let Some(held) = held else { return Merge::Insert };
    if incoming.version > held.version {
        Merge::Replace { expected: held.version }
    } else if incoming.version == held.version && held.status == Status::Active {
        if incoming.status == Status::Revoked {
            Merge::Replace { expected: held.version }
        } else if incoming.last_seen_at > held.last_seen_at {
            Merge::Touch { at: incoming.last_seen_at }
        } else {
            Merge::Keep
        }
    } else {
        Merge::Keep
    }
}

/// [`merge`] for a copy sent by the key's primary under this node's view: it also replaces an
/// active copy of the same version whose content differs (a deposed primary's unacknowledged
/// write), since the primary's is the one it acknowledges.
pub fn merge_from_primary(held: Option<&SessionRecord>, incoming: &SessionRecord, now: Timestamp) -> Merge {
    let decided = merge(held, incoming, now);
    let Some(held) = held else { return decided };
    let same_version_both_active = incoming.version == held.version
        && held.status == Status::Active
        && incoming.status == Status::Active;
    if same_version_both_active && decided != (Merge::Replace { expected: held.version }) {
        let mut aligned = held.clone();
        aligned.last_seen_at = incoming.last_seen_at;
        if aligned != *incoming {
            return Merge::Replace { expected: held.version };
        }
    }
    decided
}

/// Whether `held` is the write of `record` (equal but for `last_seen_at`, which a touch after
/// it may have moved): how a compare-and-swap retried after an attempt that reached an owner
/// recognises its own write, rather than answering a conflict for a write that took effect.
pub fn is_same_write(held: &SessionRecord, record: &SessionRecord) -> bool {
    held.version == record.version && {
        let mut aligned = held.clone();
        aligned.last_seen_at = record.last_seen_at;
        aligned == *record
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use continuum_core::{Device, Principal, Secret, SessionId};
    use std::time::Duration;

    fn record(version: u64, last_seen_ms: i64, status: Status) -> SessionRecord {
        let created = Timestamp::from_millis(1_000_000);
        SessionRecord {
            sid: SessionId::from_bytes([7; 16]),
            secret_digest: Secret::generate().digest(),
            previous_secret: None,
            principal: Principal::parse("alice").expect("principal"),
            device: Device::default(),
            created_at: created,
            last_seen_at: Timestamp::from_millis(last_seen_ms),
            idle_timeout_secs: 3600,
            absolute_expires_at: created + Duration::from_secs(86_400),
            attributes: Default::default(),
            version,
            status,
        }
    }

    const NOW: Timestamp = Timestamp::from_millis(1_000_500);

    #[test]
    fn a_tombstone_replaces_an_active_copy_of_its_version_and_never_the_reverse() {
        let active = record(7, 1_000_000, Status::Active);
        let revoked = record(7, 1_000_000, Status::Revoked);
        assert_eq!(merge(Some(&active), &revoked, NOW), Merge::Replace { expected: 7 });
        assert_eq!(merge(Some(&revoked), &active, NOW), Merge::Keep);
        assert_eq!(merge_from_primary(Some(&revoked), &active, NOW), Merge::Keep);
    }

    #[test]
    fn the_primarys_copy_replaces_another_write_of_its_version_but_a_peers_does_not() {
        let held = record(7, 1_000_000, Status::Active);
        let mut primary = record(7, 1_000_000, Status::Active);
        primary.attributes.insert("cart".into(), serde_json::json!(3));
        assert_eq!(merge(Some(&held), &primary, NOW), Merge::Keep);
        assert_eq!(merge_from_primary(Some(&held), &primary, NOW), Merge::Replace { expected: 7 });
        // The same write, only touched later: still a touch.
        let mut touched = held.clone();
        touched.last_seen_at = Timestamp::from_millis(1_000_100);
        assert_eq!(merge_from_primary(Some(&held), &touched, NOW), Merge::Touch { at: touched.last_seen_at });
        assert_eq!(merge_from_primary(Some(&held), &held, NOW), Merge::Keep);
    }

    #[test]
    fn a_new_session_is_inserted_and_a_newer_version_replaces() {
        assert_eq!(merge(None, &record(1, 1_000_000, Status::Active), NOW), Merge::Insert);
        let held = record(1, 1_000_000, Status::Active);
        assert_eq!(
            merge(Some(&held), &record(2, 1_000_000, Status::Active), NOW),
            Merge::Replace { expected: 1 }
        );
    }

    #[test]
    fn a_late_older_copy_never_undoes_a_revocation() {
        let tombstone = record(3, 1_000_000, Status::Revoked);
        assert_eq!(merge(Some(&tombstone), &record(2, 1_000_400, Status::Active), NOW), Merge::Keep);
        // Same version, later touch: a tombstone is never touched.
        assert_eq!(merge(Some(&tombstone), &record(3, 1_000_400, Status::Active), NOW), Merge::Keep);
    }

    #[test]
    fn touches_only_move_forward() {
        let held = record(2, 1_000_200, Status::Active);
        let later = record(2, 1_000_400, Status::Active);
        assert_eq!(merge(Some(&held), &later, NOW), Merge::Touch { at: Timestamp::from_millis(1_000_400) });
        assert_eq!(merge(Some(&later), &held, NOW), Merge::Keep);
        assert_eq!(merge(Some(&held), &held, NOW), Merge::Keep);
    }

    #[test]
    fn a_copy_past_its_purge_time_is_not_brought_back() {
        let copy = record(1, 1_000_000, Status::Active);
        let after_purge = copy.purge_at() + Duration::from_millis(1);
        assert_eq!(merge(None, &copy, after_purge), Merge::Keep);
    }
}
