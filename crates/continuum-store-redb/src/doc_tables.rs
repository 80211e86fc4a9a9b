//! [`DocTables`]: the document tables of an open write transaction, and the only code that
//! changes them. Sequence numbers and version ids are assigned here, on the writer thread, in
//! batch order, so no two requests can get the same one.
//!
//! Each write reads the document's metadata from the transaction itself, so a request sees the
//! earlier requests of its own batch. The metadata is written in the same transaction as the
//! update, so if the commit fails, the numbers the batch handed out were never acknowledged and
//! are free again.

use continuum_core::Timestamp;
use continuum_store::{StoreError, docs::check_compaction};
use redb::{ReadableTable, Table, WriteTransaction};

use crate::schema::{
    DOC_META, DOC_SNAPSHOTS, DOC_UPDATES, DOC_VERSION_STATES, DOC_VERSIONS, DocItemKey, DocMeta,
};

/// The five document tables, open in one write transaction.
pub(crate) struct DocTables<'txn> {
    meta: Table<'txn, &'static [u8], (u64, u64, u64)>,
    snapshots: Table<'txn, &'static [u8], &'static [u8]>,
    updates: Table<'txn, DocItemKey<'static>, &'static [u8]>,
    versions: Table<'txn, DocItemKey<'static>, (&'static str, i64)>,
    version_states: Table<'txn, DocItemKey<'static>, &'static [u8]>,
    /// Whether anything was written.
    dirty: bool,
}

impl<'txn> DocTables<'txn> {
    /// Opens (creating if needed) the document tables in `txn`.
    pub(crate) fn open(txn: &'txn WriteTransaction) -> Result<Self, redb::Error> {
        Ok(Self {
            meta: txn.open_table(DOC_META)?,
            snapshots: txn.open_table(DOC_SNAPSHOTS)?,
            updates: txn.open_table(DOC_UPDATES)?,
            versions: txn.open_table(DOC_VERSIONS)?,
            version_states: txn.open_table(DOC_VERSION_STATES)?,
            dirty: false,
        })
    }

    /// Whether anything was written.
    pub(crate) fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Appends `update` to the document stored under `key` and returns its sequence number.
    pub(crate) fn append(&mut self, key: &[u8], update: &[u8]) -> Result<u64, redb::Error> {
        let mut meta = self.meta(key)?;
        meta.last_seq += 1;
        self.updates.insert((key, meta.last_seq), update)?;
        self.put_meta(key, meta)?;
        Ok(meta.last_seq)
    }

    /// Replaces the snapshot and the updates through `through_seq` by `snapshot`, if
    /// [`check_compaction`] allows it; a refusal writes nothing.
    pub(crate) fn compact(
        &mut self,
        key: &[u8],
        snapshot: &[u8],
        through_seq: u64,
    ) -> Result<Result<(), StoreError>, redb::Error> {
        let mut meta = self.meta(key)?;
        if let Err(refused) = check_compaction(through_seq, meta.last_seq, meta.compacted_through) {
            return Ok(Err(refused));
        }
        // Updates up to the previous compaction are gone already.
        let first = meta.compacted_through + 1;
        if first <= through_seq {
            self.updates.retain_in((key, first)..=(key, through_seq), |_, _| false)?;
        }
        self.snapshots.insert(key, snapshot)?;
        meta.compacted_through = through_seq;
        self.put_meta(key, meta)?;
        Ok(Ok(()))
    }

    /// Stores a named version of the document under `key` and returns its id.
    pub(crate) fn save_version(
        &mut self,
        key: &[u8],
        name: &str,
        created_at: Timestamp,
        state: &[u8],
    ) -> Result<u64, redb::Error> {
        let mut meta = self.meta(key)?;
        meta.versions += 1;
        self.versions.insert((key, meta.versions), (name, created_at.as_millis()))?;
        self.version_states.insert((key, meta.versions), state)?;
        self.put_meta(key, meta)?;
        Ok(meta.versions)
    }

    /// The document's metadata as this transaction sees it; zeros for a new document.
    fn meta(&self, key: &[u8]) -> Result<DocMeta, redb::Error> {
        Ok(self.meta.get(key)?.map(|row| DocMeta::from_row(row.value())).unwrap_or_default())
    }

    fn put_meta(&mut self, key: &[u8], meta: DocMeta) -> Result<(), redb::Error> {
        self.dirty = true;
        self.meta.insert(key, meta.to_row())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{Database, ReadableDatabase};

    #[test]
    fn compaction_deletes_only_the_range_it_covers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::create(dir.path().join("t.redb")).expect("create");
        let txn = db.begin_write().expect("begin");
        let (a, b) = (b"user:a\0doc".as_slice(), b"user:a\0doc2".as_slice());
        {
            let mut tables = DocTables::open(&txn).expect("open");
            assert!(!tables.is_dirty());
            for i in 1..=4u8 {
                assert_eq!(tables.append(a, &[i]).expect("append"), u64::from(i));
                tables.append(b, &[i]).expect("append");
            }
            tables.compact(a, b"s2", 2).expect("redb").expect("compact");
            tables.compact(a, b"s3", 3).expect("redb").expect("compact");
            assert!(tables.compact(a, b"s9", 9).expect("redb").is_err());
            assert!(tables.is_dirty());
        }
        txn.commit().expect("commit");
        let read = db.begin_read().expect("read");
        let updates = read.open_table(DOC_UPDATES).expect("updates");
        let left: Vec<(Vec<u8>, u64)> = updates
            .iter()
            .expect("iter")
            .map(|entry| {
                let (key, _) = entry.expect("entry");
                let (doc, seq) = key.value();
                (doc.to_vec(), seq)
            })
            .collect();
        let mut expected = vec![(a.to_vec(), 4)];
        expected.extend((1..=4).map(|seq| (b.to_vec(), seq)));
        assert_eq!(left, expected, "the neighbour document, whose key extends this one's, is untouched");
        let meta = read.open_table(DOC_META).expect("meta");
        let row = meta.get(a).expect("get").expect("row").value();
        assert_eq!(DocMeta::from_row(row), DocMeta { last_seq: 4, compacted_through: 3, versions: 0 });
    }

    #[test]
    fn numbers_of_an_aborted_transaction_are_given_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Database::create(dir.path().join("t.redb")).expect("create");
        let key = b"user:a\0doc".as_slice();
        for _ in 0..2 {
            let txn = db.begin_write().expect("begin");
            {
                let mut tables = DocTables::open(&txn).expect("open");
                assert_eq!(tables.append(key, b"u").expect("append"), 1);
                assert_eq!(tables.save_version(key, "v", Timestamp::EPOCH, b"s").expect("save"), 1);
            }
            txn.abort().expect("abort");
        }
    }
}
