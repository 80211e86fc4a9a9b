//! [`Batch`]: the compare-and-swap decisions of one group commit, taken without I/O against the
//! committed sessions plus the batch's own earlier writes.
//!
//! Invariant: the mirror a batch reads holds exactly what the last commit left in the `sessions`
//! table, because the writer thread is the only one that changes either, and it publishes a
//! batch to the mirror only after the batch committed. So checking against the mirror overlaid
//! with this batch's pending writes is checking against the open write transaction, without
//! decoding a single stored record.

use std::collections::HashMap;
use std::sync::Arc;

use continuum_core::{SessionId, SessionRecord, Timestamp};
use continuum_store::{SessionTable, StoreError, cas};

use crate::schema;

/// What one accepted write does to the tables.
#[derive(Debug)]
pub(crate) enum Change {
    /// Store `record` as `bytes`; `previous` is the record it replaces, whose expiry entry goes.
    Put { previous: Option<Arc<SessionRecord>>, record: Arc<SessionRecord>, bytes: Vec<u8> },
    /// Delete `record` and its expiry entry.
    Delete { record: Arc<SessionRecord> },
}

/// The writes of one batch, not yet committed, over the committed mirror.
#[derive(Debug)]
pub(crate) struct Batch<'m> {
    committed: &'m SessionTable,
    /// What this batch has written so far, by id; `None` for a deletion.
    pending: HashMap<SessionId, Option<Arc<SessionRecord>>>,
}

impl<'m> Batch<'m> {
    /// An empty batch over `committed`.
    pub(crate) fn new(committed: &'m SessionTable) -> Self {
        Self { committed, pending: HashMap::new() }
    }

    /// The session as this batch sees it: its own latest write, else the committed one.
    pub(crate) fn current(&self, sid: &SessionId) -> Option<Arc<SessionRecord>> {
        match self.pending.get(sid) {
            Some(pending) => pending.clone(),
            None => self.committed.get(sid),
        }
    }

    /// An insert, if no session has this id.
    pub(crate) fn insert(
        &mut self,
        record: Arc<SessionRecord>,
        bytes: Vec<u8>,
    ) -> Result<Change, StoreError> {
        cas::check_insert(self.current(&record.sid).as_deref())?;
        Ok(self.put(None, record, bytes))
    }

    /// A replace, if the session is still at `expected_version`.
    pub(crate) fn replace(
        &mut self,
        expected_version: u64,
        record: Arc<SessionRecord>,
        bytes: Vec<u8>,
    ) -> Result<Change, StoreError> {
        let current = self.current(&record.sid);
        cas::check_replace(current.as_deref(), expected_version, &record)?;
        Ok(self.put(current, record, bytes))
    }

    /// A touch, or `None` when it changes nothing (absent, tombstone, or not later).
    pub(crate) fn touch(&mut self, sid: &SessionId, at: Timestamp) -> Result<Option<Change>, StoreError> {
        let Some(current) = self.current(sid) else { return Ok(None) };
        let Some(next) = cas::touched(&current, at) else { return Ok(None) };
        let bytes = schema::encode(&next).map_err(StoreError::backend)?;
        Ok(Some(self.put(Some(current), Arc::new(next), bytes)))
    }

    /// A deletion, if the session exists and its purge time is at or before `now`. The expiry
    /// index said so, but the record is what counts.
    pub(crate) fn purge(&mut self, sid: &SessionId, now: Timestamp) -> Option<Change> {
        let record = self.current(sid).filter(|record| record.purge_at() <= now)?;
        self.pending.insert(*sid, None);
        Some(Change::Delete { record })
    }

    /// Makes the batch visible to readers. Call only after its transaction committed.
    pub(crate) fn publish(self) {
        for (sid, record) in self.pending {
            match record {
                Some(record) => self.committed.put(record),
                None => {
                    self.committed.remove(&sid);
                }
            }
        }
    }

    fn put(
        &mut self,
        previous: Option<Arc<SessionRecord>>,
        record: Arc<SessionRecord>,
        bytes: Vec<u8>,
    ) -> Change {
        self.pending.insert(record.sid, Some(Arc::clone(&record)));
        Change::Put { previous, record, bytes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::tests::record;
    use continuum_core::Status;

    fn put(batch: &mut Batch<'_>, record: &SessionRecord) -> Result<Change, StoreError> {
        batch.insert(Arc::new(record.clone()), Vec::new())
    }

    fn next_version(record: &SessionRecord) -> SessionRecord {
        SessionRecord { version: record.version + 1, ..record.clone() }
    }

    #[test]
    fn later_writes_see_earlier_writes_of_the_same_batch() {
        let mirror = SessionTable::without_expiry_index();
        let mut batch = Batch::new(&mirror);
        let first = record("alice", 0);
        put(&mut batch, &first).expect("first insert");
        assert!(matches!(put(&mut batch, &first), Err(StoreError::AlreadyExists)));
        let second = next_version(&first);
        batch.replace(1, Arc::new(second.clone()), Vec::new()).expect("replace at 1");
        assert!(matches!(
            batch.replace(1, Arc::new(next_version(&second)), Vec::new()),
            Err(StoreError::VersionConflict { expected: 1, actual: 2 })
        ));
        assert!(mirror.get(&first.sid).is_none(), "nothing is visible before publish");
        batch.publish();
        assert_eq!(mirror.get(&first.sid).expect("published").version, 2);
    }

    #[test]
    fn a_replace_reports_what_it_replaces() {
        let mirror = SessionTable::without_expiry_index();
        let stored = record("alice", 0);
        mirror.put(Arc::new(stored.clone()));
        let mut batch = Batch::new(&mirror);
        match batch.replace(1, Arc::new(next_version(&stored)), Vec::new()) {
            Ok(Change::Put { previous: Some(previous), record, .. }) => {
                assert_eq!(previous.version, 1);
                assert_eq!(record.version, 2);
            }
            other => panic!("expected a put over the stored record, got {other:?}"),
        }
    }

    #[test]
    fn touch_moves_forward_only_and_skips_tombstones() {
        let mirror = SessionTable::without_expiry_index();
        let live = record("alice", 1_000);
        let mut dead = record("alice", 1_000);
        dead.status = Status::Revoked;
        mirror.put(Arc::new(live.clone()));
        mirror.put(Arc::new(dead.clone()));
        let mut batch = Batch::new(&mirror);
        assert!(batch.touch(&live.sid, Timestamp::from_millis(999)).expect("touch").is_none());
        assert!(batch.touch(&dead.sid, Timestamp::from_millis(5_000)).expect("touch").is_none());
        assert!(batch.touch(&SessionId::generate(), Timestamp::from_millis(5_000)).expect("touch").is_none());
        let Some(Change::Put { record: touched, bytes, .. }) =
            batch.touch(&live.sid, Timestamp::from_millis(5_000)).expect("touch")
        else {
            panic!("a later touch writes")
        };
        assert_eq!(touched.last_seen_at, Timestamp::from_millis(5_000));
        assert_eq!(touched.version, 1);
        assert_eq!(schema::decode(*live.sid.as_bytes(), &bytes).expect("decode"), *touched);
        assert!(batch.touch(&live.sid, Timestamp::from_millis(4_000)).expect("touch").is_none());
    }

    #[test]
    fn purge_rechecks_the_record_and_deletes_once() {
        let mirror = SessionTable::without_expiry_index();
        let due = record("alice", 0);
        let fresh = record("alice", 50_000);
        mirror.put(Arc::new(due.clone()));
        mirror.put(Arc::new(fresh.clone()));
        let now = Timestamp::from_millis(60_000);
        let mut batch = Batch::new(&mirror);
        assert!(batch.purge(&fresh.sid, now).is_none(), "not due yet, whatever the index says");
        assert!(matches!(batch.purge(&due.sid, now), Some(Change::Delete { .. })));
        assert!(batch.purge(&due.sid, now).is_none(), "already deleted in this batch");
        assert!(batch.current(&due.sid).is_none());
        batch.publish();
        assert!(mirror.get(&due.sid).is_none());
        assert!(mirror.get(&fresh.sid).is_some());
        assert_eq!(mirror.by_principal(&due.principal).len(), 1);
    }
}
