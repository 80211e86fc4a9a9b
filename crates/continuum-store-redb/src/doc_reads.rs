//! The document reads, each inside one redb read transaction: a consistent view of what was
//! committed when it began. Blocking; run on a blocking thread.

use continuum_core::{DocKey, DocName, Timestamp};
use continuum_store::{StoredDoc, VersionMeta};
use redb::ReadTransaction;

use crate::error::RedbStoreError;
use crate::schema::{DOC_META, DOC_SNAPSHOTS, DOC_UPDATES, DOC_VERSION_STATES, DOC_VERSIONS, DocMeta};

fn failed(error: impl Into<redb::Error>) -> RedbStoreError {
    RedbStoreError::Read(error.into())
}

/// The snapshot, the updates after it in sequence order, and `last_seq` of the document under
/// `key`; empty for a document never written.
pub(crate) fn load(txn: &ReadTransaction, key: &[u8]) -> Result<StoredDoc, RedbStoreError> {
    let meta = txn.open_table(DOC_META).map_err(failed)?;
    let Some(row) = meta.get(key).map_err(failed)? else { return Ok(StoredDoc::default()) };
    let last_seq = DocMeta::from_row(row.value()).last_seq;
    let snapshots = txn.open_table(DOC_SNAPSHOTS).map_err(failed)?;
    let snapshot = snapshots.get(key).map_err(failed)?.map(|snapshot| snapshot.value().to_vec());
    let updates = txn.open_table(DOC_UPDATES).map_err(failed)?;
    let updates = updates
        .range((key, 0)..=(key, u64::MAX))
        .map_err(failed)?
        .map(|entry| entry.map(|(_, update)| update.value().to_vec()).map_err(failed))
        .collect::<Result<_, _>>()?;
    Ok(StoredDoc { snapshot, updates, last_seq })
}

/// The versions of the document under `key`, oldest first.
pub(crate) fn versions(txn: &ReadTransaction, key: &[u8]) -> Result<Vec<VersionMeta>, RedbStoreError> {
    let versions = txn.open_table(DOC_VERSIONS).map_err(failed)?;
    versions
        .range((key, 0)..=(key, u64::MAX))
        .map_err(failed)?
        .map(|entry| {
            let (item, row) = entry.map_err(failed)?;
            Ok(version_meta(item.value().1, row.value()))
        })
        .collect()
}

/// Version `id` of the document under `key` and its state, or `None`.
pub(crate) fn version(
    txn: &ReadTransaction,
    key: &[u8],
    id: u64,
) -> Result<Option<(VersionMeta, Vec<u8>)>, RedbStoreError> {
    let versions = txn.open_table(DOC_VERSIONS).map_err(failed)?;
    let Some(row) = versions.get((key, id)).map_err(failed)? else { return Ok(None) };
    let meta = version_meta(id, row.value());
    let states = txn.open_table(DOC_VERSION_STATES).map_err(failed)?;
    // Written in the same transaction as the metadata: missing means a damaged file.
    let state = states.get((key, id)).map_err(failed)?.ok_or(RedbStoreError::VersionStateMissing { id })?;
    Ok(Some((meta, state.value().to_vec())))
}

fn version_meta(id: u64, (name, created_at): (&str, i64)) -> VersionMeta {
    VersionMeta { id, name: name.to_owned(), created_at: Timestamp::from_millis(created_at) }
}

/// The names of the documents whose storage keys start with `prefix` (one scope's
/// [`continuum_core::DocKey::scope_prefix`]), sorted: the table's byte order is the names'.
pub(crate) fn doc_names(txn: &ReadTransaction, prefix: &[u8]) -> Result<Vec<DocName>, RedbStoreError> {
    let meta = txn.open_table(DOC_META).map_err(failed)?;
    let mut names = Vec::new();
    for entry in meta.range(prefix..).map_err(failed)? {
        let (key, _) = entry.map_err(failed)?;
        let Some(name) = key.value().strip_prefix(prefix) else { break };
        let name = String::from_utf8_lossy(name);
        let parsed = DocName::parse(&name)
            .map_err(|source| RedbStoreError::DocKey { name: name.clone().into_owned(), source })?;
        names.push(parsed);
    }
    Ok(names)
}

/// Up to `limit` documents after the storage key `after` (from the first when `None`), in
/// storage-key order.
pub(crate) fn doc_keys(
    txn: &ReadTransaction,
    after: Option<&[u8]>,
    limit: usize,
) -> Result<Vec<DocKey>, RedbStoreError> {
    let meta = txn.open_table(DOC_META).map_err(failed)?;
    let range = match after {
        Some(after) => meta.range::<&[u8]>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded)),
        None => meta.range::<&[u8]>(..),
    };
    let mut keys = Vec::new();
    for entry in range.map_err(failed)?.take(limit) {
        let (key, _) = entry.map_err(failed)?;
        let key = key.value();
        let parsed = DocKey::from_storage_key(key).map_err(|source| RedbStoreError::DocKey {
            name: String::from_utf8_lossy(key).into_owned(),
            source,
        })?;
        keys.push(parsed);
    }
    Ok(keys)
}
