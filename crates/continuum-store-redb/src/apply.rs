//! The write requests the writer thread takes ([`WriteOp`]) and how one of them is applied inside
//! the open write transaction: a session write's decision from the [`Batch`], its bytes through
//! [`Tables`]; a document write through [`crate::doc_tables::DocTables`].

use std::sync::Arc;

use continuum_core::{SessionId, SessionRecord, Timestamp};
use continuum_store::{PurgedSession, StoreError};

use crate::batch::{Batch, Change};
use crate::tables::Tables;

/// One write request, as a verb.
#[derive(Debug)]
pub(crate) enum WriteOp {
    /// [`continuum_store::SessionStore::insert`]; `bytes` is the record encoded by the caller,
    /// off the writer thread.
    Insert { record: Arc<SessionRecord>, bytes: Vec<u8> },
    /// [`continuum_store::SessionStore::replace`].
    Replace { expected_version: u64, record: Arc<SessionRecord>, bytes: Vec<u8> },
    /// [`continuum_store::SessionStore::touch`].
    Touch { sid: SessionId, at: Timestamp },
    /// [`continuum_store::SessionStore::purge_expired`]; what it deletes is added to `report`
    /// (read it once the write returned `Ok`).
    Purge { now: Timestamp, limit: usize, report: PurgeReport },
    /// [`continuum_store::SessionStore::purge_sessions`]: deletes those of `sids` due at `now`,
    /// added to `report`.
    PurgeIds { now: Timestamp, sids: Vec<SessionId>, report: PurgeReport },
    /// [`continuum_store::SessionStore::bump_principal_epoch`].
    BumpEpoch { principal: String },
    /// [`continuum_store::DocStore::append`]; `key` is the document's storage key.
    Append { key: Vec<u8>, update: Vec<u8> },
    /// [`continuum_store::DocStore::compact`].
    Compact { key: Vec<u8>, snapshot: Vec<u8>, through_seq: u64 },
    /// [`continuum_store::DocStore::save_version`].
    SaveVersion { key: Vec<u8>, name: String, created_at: Timestamp, state: Vec<u8> },
}

/// Where a purge lists the sessions it deleted.
pub(crate) type PurgeReport = Arc<std::sync::Mutex<Vec<PurgedSession>>>;

/// The answer to one request, or why it was refused: for a session write, how many sessions it
/// wrote or deleted; for an epoch bump, the new epoch; for an append, the update's sequence number; for a version, its id; 0 for a
/// compaction.
pub(crate) type Outcome = Result<u64, StoreError>;

/// Applies `op`. The outer error is redb failing, which fails the whole batch; the inner one is
/// this request being refused (a compare-and-swap or compaction check), which fails only this
/// request.
pub(crate) fn apply(
    batch: &mut Batch<'_>,
    tables: &mut Tables<'_>,
    op: WriteOp,
) -> Result<Outcome, redb::Error> {
    let change = match op {
        WriteOp::Insert { record, bytes } => batch.insert(record, bytes),
        WriteOp::Replace { expected_version, record, bytes } => {
            batch.replace(expected_version, record, bytes)
        }
        WriteOp::Touch { sid, at } => match batch.touch(&sid, at) {
            Ok(Some(change)) => Ok(change),
            Ok(None) => return Ok(Ok(0)),
            Err(refused) => Err(refused),
        },
        WriteOp::Purge { now, limit, report } => {
            return purge(batch, tables, now, limit, &report).map(|n| Ok(n as u64));
        }
        WriteOp::PurgeIds { now, sids, report } => {
            return purge_ids(batch, tables, now, &sids, &report).map(|n| Ok(n as u64));
        }
        WriteOp::BumpEpoch { principal } => return tables.bump_epoch(&principal).map(Ok),
        WriteOp::Append { key, update } => return tables.docs()?.append(&key, &update).map(Ok),
        WriteOp::Compact { key, snapshot, through_seq } => {
            return Ok(tables.docs()?.compact(&key, &snapshot, through_seq)?.map(|()| 0));
        }
        WriteOp::SaveVersion { key, name, created_at, state } => {
            return tables.docs()?.save_version(&key, &name, created_at, &state).map(Ok);
        }
    };
    match change {
        Ok(change) => {
            tables.apply(&change)?;
            Ok(Ok(1))
        }
        Err(refused) => Ok(Err(refused)),
    }
}

/// Deletes those of `sids` that are due at `now`, with their expiry index entries.
fn purge_ids(
    batch: &mut Batch<'_>,
    tables: &mut Tables<'_>,
    now: Timestamp,
    sids: &[SessionId],
    report: &PurgeReport,
) -> Result<usize, redb::Error> {
    let mut purged = 0;
    for sid in sids {
        let Some(change) = batch.purge(sid, now) else { continue };
        if let Change::Delete { record } = &change {
            tables.remove_expiry(crate::schema::expiry_key(record))?;
            report.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(PurgedSession::of(record));
        }
        tables.apply(&change)?;
        purged += 1;
    }
    Ok(purged)
}

/// Deletes up to `limit` sessions due at `now`, walking the expiry index from its start.
///
/// Every index entry it visits goes: either it is the entry of the session being deleted, or it
/// no longer matches its session (which keeps its own entry), so the walk always advances.
fn purge(
    batch: &mut Batch<'_>,
    tables: &mut Tables<'_>,
    now: Timestamp,
    limit: usize,
    report: &PurgeReport,
) -> Result<usize, redb::Error> {
    let mut purged = 0;
    while purged < limit {
        let wanted = limit - purged;
        let due = tables.due(now, wanted)?;
        for key in &due {
            tables.remove_expiry(*key)?;
            if let Some(change) = batch.purge(&SessionId::from_bytes(key.1), now) {
                if let Change::Delete { record } = &change {
                    report
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .push(PurgedSession::of(record));
                }
                tables.apply(&change)?;
                purged += 1;
            }
        }
        if due.len() < wanted {
            break;
        }
    }
    Ok(purged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{self, tests::record};
    use continuum_store::SessionTable;
    use redb::Database;

    #[test]
    fn purge_skips_stale_index_entries_and_still_fills_its_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::create(dir.path().join("t.redb")).expect("create");
        let txn = db.begin_write().expect("begin");
        let mut tables = Tables::open(&txn).expect("open");
        let mirror = SessionTable::without_expiry_index();
        let mut batch = Batch::new(&mirror);
        // Three sessions due at 60 s, 61 s and 62 s, and one due much later.
        let due: Vec<_> = (0..3).map(|i| record("alice", i * 1_000)).collect();
        let fresh = record("alice", 1_000_000);
        for r in due.iter().chain([&fresh]) {
            let op =
                WriteOp::Insert { record: Arc::new(r.clone()), bytes: schema::encode(r).expect("encode") };
            assert_eq!(apply(&mut batch, &mut tables, op).expect("redb").expect("insert"), 1);
        }
        // Two entries ahead of them that name no due record: an unknown sid, and a stale slot of
        // the fresh session.
        tables.insert_expiry_for_test((-5, [1; 16]));
        tables.insert_expiry_for_test((-4, *fresh.sid.as_bytes()));
        let now = Timestamp::from_millis(100_000);
        let op = WriteOp::Purge { now, limit: 2, report: PurgeReport::default() };
        assert_eq!(apply(&mut batch, &mut tables, op).expect("redb").expect("purge"), 2);
        assert_eq!(tables.due(now, 10).expect("due"), vec![schema::expiry_key(&due[2])]);
        let op = WriteOp::Purge { now, limit: 10, report: PurgeReport::default() };
        assert_eq!(apply(&mut batch, &mut tables, op).expect("redb").expect("purge"), 1);
        let left = tables.due(Timestamp::from_millis(i64::MAX), 10).expect("due");
        assert_eq!(left, vec![schema::expiry_key(&fresh)], "the fresh session keeps its own entry");
        assert!(batch.current(&fresh.sid).is_some());
    }

    #[test]
    fn a_refused_request_writes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::create(dir.path().join("t.redb")).expect("create");
        let txn = db.begin_write().expect("begin");
        let mut tables = Tables::open(&txn).expect("open");
        let mirror = SessionTable::without_expiry_index();
        let mut batch = Batch::new(&mirror);
        let r = record("alice", 0);
        let op = WriteOp::Replace { expected_version: 1, record: Arc::new(r.clone()), bytes: Vec::new() };
        assert!(matches!(apply(&mut batch, &mut tables, op).expect("redb"), Err(StoreError::NotFound)));
        let op = WriteOp::Touch { sid: r.sid, at: Timestamp::from_millis(5) };
        assert_eq!(apply(&mut batch, &mut tables, op).expect("redb").expect("touch"), 0);
        assert!(!tables.is_dirty());
    }
}
