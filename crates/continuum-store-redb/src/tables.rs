//! [`Tables`]: the tables of the schema, open in one write transaction, and the only code that
//! changes the session tables — so a session and its expiry entry always change together. The
//! document tables are opened on first use, through [`DocTables`].

use continuum_core::Timestamp;
use redb::{ReadableTable, Table, WriteTransaction};

use crate::batch::Change;
use crate::doc_tables::DocTables;
use crate::schema::{self, EXPIRY, ExpiryKey, PRINCIPAL_EPOCHS, SESSIONS, SidKey};

/// The tables of an open write transaction.
pub(crate) struct Tables<'txn> {
    txn: &'txn WriteTransaction,
    sessions: Table<'txn, SidKey, &'static [u8]>,
    expiry: Table<'txn, ExpiryKey, ()>,
    /// Opened by the first document write of the batch, so a batch of session writes opens no
    /// document table.
    docs: Option<DocTables<'txn>>,
    /// Opened by the first epoch bump of the batch.
    epochs: Option<Table<'txn, &'static str, u64>>,
    /// Whether a session table was written, i.e. whether the transaction needs a commit.
    dirty: bool,
}

impl<'txn> Tables<'txn> {
    /// Opens (creating if needed) the session tables in `txn`.
    pub(crate) fn open(txn: &'txn WriteTransaction) -> Result<Self, redb::Error> {
        Ok(Self {
            txn,
            sessions: txn.open_table(SESSIONS)?,
            expiry: txn.open_table(EXPIRY)?,
            docs: None,
            epochs: None,
            dirty: false,
        })
    }

    /// The document tables, opened on first use.
    pub(crate) fn docs(&mut self) -> Result<&mut DocTables<'txn>, redb::Error> {
        match &mut self.docs {
            Some(docs) => Ok(docs),
            docs => Ok(docs.insert(DocTables::open(self.txn)?)),
        }
    }

    /// Adds one to `principal`'s epoch and returns the new value.
    pub(crate) fn bump_epoch(&mut self, principal: &str) -> Result<u64, redb::Error> {
        let epochs = match &mut self.epochs {
            Some(epochs) => epochs,
            epochs => epochs.insert(self.txn.open_table(PRINCIPAL_EPOCHS)?),
        };
        let next = epochs.get(principal)?.map_or(0, |epoch| epoch.value()).saturating_add(1);
        epochs.insert(principal, next)?;
        self.dirty = true;
        Ok(next)
    }

    /// Writes a change: the session and its expiry entry.
    pub(crate) fn apply(&mut self, change: &Change) -> Result<(), redb::Error> {
        self.dirty = true;
        match change {
            Change::Put { previous, record, bytes } => {
                self.sessions.insert(schema::sid_key(&record.sid), bytes.as_slice())?;
                let key = schema::expiry_key(record);
                // Patches and rotations keep the purge time: leave the index pages untouched.
                match previous.as_ref().map(|previous| schema::expiry_key(previous)) {
                    Some(old) if old == key => {}
                    Some(old) => {
                        self.expiry.remove(old)?;
                        self.expiry.insert(key, ())?;
                    }
                    None => {
                        self.expiry.insert(key, ())?;
                    }
                }
            }
            Change::Delete { record } => {
                self.sessions.remove(schema::sid_key(&record.sid))?;
                self.expiry.remove(schema::expiry_key(record))?;
            }
        }
        Ok(())
    }

    /// Up to `limit` expiry entries at or before `now`, earliest first.
    pub(crate) fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<ExpiryKey>, redb::Error> {
        self.expiry
            .range(..=schema::last_due_key(now))?
            .take(limit)
            .map(|entry| entry.map(|(key, _)| key.value()).map_err(redb::Error::from))
            .collect()
    }

    /// Removes one expiry entry, whatever session it names.
    pub(crate) fn remove_expiry(&mut self, key: ExpiryKey) -> Result<(), redb::Error> {
        if self.expiry.remove(key)?.is_some() {
            self.dirty = true;
        }
        Ok(())
    }

    /// Whether the transaction has anything to commit.
    pub(crate) fn is_dirty(&self) -> bool {
        self.dirty || self.docs.as_ref().is_some_and(DocTables::is_dirty)
    }

    /// Adds an expiry entry on its own, to build an inconsistent index in tests.
    #[cfg(test)]
    pub(crate) fn insert_expiry_for_test(&mut self, key: ExpiryKey) {
        self.expiry.insert(key, ()).expect("insert expiry entry");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::schema::tests::record;
    use redb::{Database, ReadableDatabase, ReadableTableMetadata};

    fn put(tables: &mut Tables<'_>, record: &continuum_core::SessionRecord) {
        let bytes = schema::encode(record).expect("encode");
        tables.apply(&Change::Put { previous: None, record: Arc::new(record.clone()), bytes }).expect("put");
    }

    #[test]
    fn due_follows_purge_time_across_the_sign_and_respects_the_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::create(dir.path().join("t.redb")).expect("create");
        let txn = db.begin_write().expect("begin");
        let mut tables = Tables::open(&txn).expect("open");
        // Purge times (idle 60 s): -40 s, 0 s, 60 s, 120 s.
        let records: Vec<_> = [-100_000, -60_000, 0, 60_000].map(|at| record("alice", at)).into();
        for r in &records {
            put(&mut tables, r);
        }
        let due = |tables: &Tables<'_>, now: i64, limit| {
            tables.due(Timestamp::from_millis(now), limit).expect("due")
        };
        assert_eq!(due(&tables, -1, 10), vec![schema::expiry_key(&records[0])]);
        assert_eq!(due(&tables, 0, 10).len(), 2, "the bound is inclusive");
        assert_eq!(due(&tables, 60_000, 10).len(), 3);
        assert_eq!(
            due(&tables, i64::MAX, 2),
            vec![schema::expiry_key(&records[0]), schema::expiry_key(&records[1])]
        );
        assert!(tables.is_dirty());
        drop(tables);
        txn.commit().expect("commit");
    }

    #[test]
    fn a_put_over_a_record_moves_its_expiry_entry_and_a_delete_removes_both() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::create(dir.path().join("t.redb")).expect("create");
        let txn = db.begin_write().expect("begin");
        let mut tables = Tables::open(&txn).expect("open");
        let first = record("alice", 0);
        put(&mut tables, &first);
        let mut touched = first.clone();
        touched.last_seen_at = Timestamp::from_millis(30_000);
        let bytes = schema::encode(&touched).expect("encode");
        let touched = Arc::new(touched);
        tables
            .apply(&Change::Put {
                previous: Some(Arc::new(first.clone())),
                record: Arc::clone(&touched),
                bytes,
            })
            .expect("touch");
        assert_eq!(
            tables.due(Timestamp::from_millis(i64::MAX), 10).expect("due"),
            vec![schema::expiry_key(&touched)]
        );
        tables.apply(&Change::Delete { record: touched }).expect("delete");
        drop(tables);
        txn.commit().expect("commit");
        let read = db.begin_read().expect("read");
        assert!(read.open_table(SESSIONS).expect("sessions").is_empty().expect("len"));
        assert!(read.open_table(EXPIRY).expect("expiry").is_empty().expect("len"));
    }

    #[test]
    fn removing_an_absent_expiry_entry_writes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::create(dir.path().join("t.redb")).expect("create");
        let txn = db.begin_write().expect("begin");
        let mut tables = Tables::open(&txn).expect("open");
        tables.remove_expiry((5, [0; 16])).expect("remove");
        assert!(!tables.is_dirty());
    }
}
