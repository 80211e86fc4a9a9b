//! The on-disk schema: the redb tables, their key encodings and the record encoding.
//!
//! Sessions:
//! - `sessions`: sid bytes → the [`SessionRecord`] as JSON.
//! - `expiry`: `(purge_at millis, sid bytes)` → `()`, one entry per session, at its
//!   [`SessionRecord::purge_at`]. Written in the same transaction as the session it indexes, so
//!   the two tables never disagree after a commit.
//!
//! - `principal_epochs`: principal → its epoch (absent is 0), the count of its "sign out
//!   everywhere" requests that sealed tokens are checked against.
//!
//! JSON keeps the file readable by tools and lets [`SessionRecord`] grow optional fields without
//! a migration; a record is a few hundred bytes, so the encoding costs little next to an fsync.
//!
//! Continuity documents, each keyed by its [`continuum_core::DocKey::storage_key`] bytes (so one scope's
//! documents are one key range):
//! - `doc_meta`: key → [`DocMeta`] as `(last_seq, compacted_through, versions)`. Every document
//!   ever written has a row; it is what [`continuum_store::DocStore::doc_names`] lists.
//! - `doc_snapshots`: key → the compacted snapshot, for documents ever compacted. Apart from the
//!   metadata, so an append never rewrites a large snapshot.
//! - `doc_updates`: `(key, seq)` → one update, for the updates after the snapshot.
//! - `doc_versions`: `(key, id)` → `(name, created_at millis)`, and `doc_version_states`:
//!   `(key, id)` → the version's state, apart so that listing versions reads no state.
//!
//! Document bytes are stored as given: they are Yjs updates, opaque to the store.

use continuum_core::{SessionId, SessionRecord, Timestamp};
use continuum_store::{decode_record, encode_record};
use redb::TableDefinition;

use crate::error::RedbStoreError;

/// The raw bytes of a session id, the key of the `sessions` table.
pub type SidKey = [u8; 16];

/// The key of the `expiry` table: purge time in milliseconds since the epoch, then the sid.
pub type ExpiryKey = (i64, SidKey);

/// Every session, by id, as JSON.
pub const SESSIONS: TableDefinition<'static, SidKey, &'static [u8]> = TableDefinition::new("sessions");

/// The expiry index: one entry per session at its purge time.
pub const EXPIRY: TableDefinition<'static, ExpiryKey, ()> = TableDefinition::new("expiry");

/// Every principal's epoch, by principal; a principal never bumped has no row.
pub const PRINCIPAL_EPOCHS: TableDefinition<'static, &'static str, u64> =
    TableDefinition::new("principal_epochs");

/// The key of a document's rows in `doc_updates`, `doc_versions` and `doc_version_states`: its
/// [`continuum_core::DocKey::storage_key`], then the sequence number or version id.
pub type DocItemKey<'a> = (&'a [u8], u64);

/// Every document's metadata, by storage key, as `(last_seq, compacted_through, versions)`.
pub const DOC_META: TableDefinition<'static, &'static [u8], (u64, u64, u64)> =
    TableDefinition::new("doc_meta");

/// The snapshot of every document ever compacted, by storage key.
pub const DOC_SNAPSHOTS: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("doc_snapshots");

/// The updates appended after each document's snapshot, by storage key and sequence number.
pub const DOC_UPDATES: TableDefinition<'static, DocItemKey<'static>, &'static [u8]> =
    TableDefinition::new("doc_updates");

/// The name and creation time (milliseconds since the epoch) of every named version.
pub const DOC_VERSIONS: TableDefinition<'static, DocItemKey<'static>, (&'static str, i64)> =
    TableDefinition::new("doc_versions");

/// The state of every named version.
pub const DOC_VERSION_STATES: TableDefinition<'static, DocItemKey<'static>, &'static [u8]> =
    TableDefinition::new("doc_version_states");

/// What `doc_meta` holds for one document.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DocMeta {
    /// The sequence number of the last update ever appended; compaction does not lower it.
    pub last_seq: u64,
    /// The `through_seq` of the last compaction (0 if none): every update up to it is in the
    /// snapshot and gone from `doc_updates`.
    pub compacted_through: u64,
    /// How many named versions were saved; the last one's id.
    pub versions: u64,
}

impl DocMeta {
    /// The metadata from its `doc_meta` row.
    pub fn from_row((last_seq, compacted_through, versions): (u64, u64, u64)) -> Self {
        Self { last_seq, compacted_through, versions }
    }

    /// The `doc_meta` row of this metadata.
    pub fn to_row(self) -> (u64, u64, u64) {
        (self.last_seq, self.compacted_through, self.versions)
    }
}

/// The `sessions` key of a session.
pub fn sid_key(sid: &SessionId) -> SidKey {
    *sid.as_bytes()
}

/// The `expiry` key of a record: where it sits in the index.
pub fn expiry_key(record: &SessionRecord) -> ExpiryKey {
    (record.purge_at().as_millis(), sid_key(&record.sid))
}

/// The last `expiry` key due at `now`: every key at or before it has `purge_at <= now`.
pub fn last_due_key(now: Timestamp) -> ExpiryKey {
    (now.as_millis(), [u8::MAX; 16])
}

/// Encodes a record for the `sessions` table.
pub fn encode(record: &SessionRecord) -> Result<Vec<u8>, RedbStoreError> {
    Ok(encode_record(record)?)
}

/// Decodes a `sessions` value stored under `key`, checking that the record is the one the key
/// names.
pub fn decode(key: SidKey, bytes: &[u8]) -> Result<SessionRecord, RedbStoreError> {
    Ok(decode_record(SessionId::from_bytes(key), bytes)?)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use continuum_core::{Device, Principal, Secret, Status};
    use continuum_store::RecordCodecError;
    use serde_json::{Map, json};

    /// A record for tests: active, version 1, idle 60 s, absolute one hour after `at`.
    pub(crate) fn record(principal: &str, at: i64) -> SessionRecord {
        SessionRecord {
            sid: SessionId::generate(),
            secret_digest: Secret::generate().digest(),
            previous_secret: None,
            principal: Principal::parse(principal).expect("principal"),
            device: Device { label: Some("laptop".into()), user_agent: None },
            created_at: Timestamp::from_millis(at),
            last_seen_at: Timestamp::from_millis(at),
            idle_timeout_secs: 60,
            absolute_expires_at: Timestamp::from_millis(at + 3_600_000),
            attributes: Map::new(),
            version: 1,
            status: Status::Active,
        }
    }

    #[test]
    fn encode_decode_round_trip() {
        let mut original = record("alice", 1_000);
        original.attributes.insert("cart".into(), json!({"items": [1, 2]}));
        let bytes = encode(&original).expect("encode");
        assert_eq!(decode(sid_key(&original.sid), &bytes).expect("decode"), original);
    }

    #[test]
    fn decode_refuses_a_record_under_another_key() {
        let stored = record("alice", 1_000);
        let other = SessionId::generate();
        let bytes = encode(&stored).expect("encode");
        match decode(sid_key(&other), &bytes) {
            Err(RedbStoreError::Record(RecordCodecError::KeyMismatch { key, found })) => {
                assert_eq!(key, other);
                assert_eq!(found, stored.sid);
            }
            other => panic!("expected a key mismatch, got {other:?}"),
        }
        assert!(matches!(
            decode(sid_key(&other), b"{not json"),
            Err(RedbStoreError::Record(RecordCodecError::Decode { .. }))
        ));
    }

    #[test]
    fn expiry_key_follows_purge_at() {
        let mut r = record("alice", 0);
        assert_eq!(expiry_key(&r), (60_000, *r.sid.as_bytes()));
        r.status = Status::Revoked;
        assert_eq!(expiry_key(&r), (3_600_000, *r.sid.as_bytes()), "a tombstone waits for absolute expiry");
    }

    #[test]
    fn last_due_key_sorts_after_every_sid_due_at_now() {
        let r = record("alice", 0);
        let due = (60_000, sid_key(&r.sid));
        assert!(due <= last_due_key(Timestamp::from_millis(60_000)));
        assert!(due > last_due_key(Timestamp::from_millis(59_999)));
    }
}
