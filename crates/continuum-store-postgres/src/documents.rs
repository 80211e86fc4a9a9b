//! [`PostgresStore`] as a [`DocStore`]: every operation is one prepared statement, so one round
//! trip, and every write is one autocommitted transaction.
//!
//! Sequence numbers and version ids come from counters in the document's `doc_meta` row. An
//! append is one statement: an `INSERT … ON CONFLICT DO UPDATE` creates the row or bumps
//! `last_seq` (locking the row, so concurrent appends to one document take distinct numbers in
//! turn) and returns the new number, which the same statement inserts into `doc_updates`. Both
//! commit together or not at all. A named version works the same way with `last_version`.
//!
//! A compaction is one statement too: it locks the `doc_meta` row, writes the snapshot and
//! `compacted_through` only if the [`check_compaction`] rule holds on the locked row, and deletes
//! the updates it covers. Loads read only updates past `compacted_through`, so an update the
//! delete did not see (an append committed while the compaction ran) is never served twice.

use async_trait::async_trait;
use continuum_core::{DocKey, DocName, Scope, Timestamp};
use continuum_store::docs::check_compaction;
use continuum_store::{DocStore, StoreError, StoredDoc, VersionMeta};

use crate::codec::{self, column};
use crate::error::PostgresStoreError;
use crate::pool;
use crate::store::PostgresStore;

/// The largest update, snapshot or version state taken, in bytes. PostgreSQL refuses a value or a
/// protocol message of 1 GB or more; half of that leaves room for the rest of the message and
/// for the server's copies of it. Larger values are refused before anything is sent.
pub const MAX_DOC_VALUE_BYTES: usize = 512 << 20;

/// The meta row first (sequence number 0, with `last_seq` and the snapshot), then the updates
/// after the snapshot, oldest first; one statement, so one consistent view.
const LOAD: &str = "SELECT 0::bigint AS seq, snapshot AS bytes, last_seq
        FROM doc_meta WHERE storage_key = $1::bytea
    UNION ALL
    SELECT u.seq, u.update, NULL::bigint
        FROM doc_updates u JOIN doc_meta m ON m.storage_key = u.storage_key
        WHERE u.storage_key = $1::bytea AND u.seq > m.compacted_through
    ORDER BY seq";

const APPEND: &str = "WITH meta AS (
        INSERT INTO doc_meta AS m (storage_key, scope, name, last_seq)
        VALUES ($1::bytea, $2::text, $3::text, 1)
        ON CONFLICT (storage_key) DO UPDATE SET last_seq = m.last_seq + 1
        RETURNING m.last_seq
    )
    INSERT INTO doc_updates (storage_key, seq, update)
    SELECT $1::bytea, last_seq, $4::bytea FROM meta
    RETURNING seq";

/// `current` locks the meta row and reads its latest committed counters. A missing document is
/// created only by a compaction through 0 (the one [`check_compaction`] allows with `last_seq`
/// 0); the conflict branch applies the rule to the locked row. The proposed row carries
/// `last_seq = through_seq` only to satisfy the table's check; it is inserted only when that is 0.
const COMPACT: &str = "WITH current AS (
        SELECT last_seq, compacted_through FROM doc_meta WHERE storage_key = $1::bytea FOR UPDATE
    ), written AS (
        INSERT INTO doc_meta AS m (storage_key, scope, name, last_seq, compacted_through, snapshot)
        SELECT $1::bytea, $2::text, $3::text, $4::bigint, $4::bigint, $5::bytea
        WHERE $4::bigint = 0 OR EXISTS (SELECT 1 FROM current)
        ON CONFLICT (storage_key) DO UPDATE
            SET snapshot = EXCLUDED.snapshot, compacted_through = EXCLUDED.compacted_through
            WHERE EXCLUDED.compacted_through BETWEEN m.compacted_through AND m.last_seq
        RETURNING 1
    ), dropped AS (
        DELETE FROM doc_updates
        WHERE storage_key = $1::bytea AND seq <= $4::bigint AND EXISTS (SELECT 1 FROM written)
    )
    SELECT EXISTS (SELECT 1 FROM written),
        (SELECT last_seq FROM current), (SELECT compacted_through FROM current)";

const SAVE_VERSION: &str = "WITH meta AS (
        INSERT INTO doc_meta AS m (storage_key, scope, name, last_version)
        VALUES ($1::bytea, $2::text, $3::text, 1)
        ON CONFLICT (storage_key) DO UPDATE SET last_version = m.last_version + 1
        RETURNING m.last_version
    )
    INSERT INTO doc_versions (storage_key, id, name, created_at, state)
    SELECT $1::bytea, last_version, $4::text, $5::bigint, $6::bytea FROM meta
    RETURNING id";

const VERSIONS: &str =
    "SELECT id, name, created_at FROM doc_versions WHERE storage_key = $1::bytea ORDER BY id";

const VERSION: &str =
    "SELECT name, created_at, state FROM doc_versions WHERE storage_key = $1::bytea AND id = $2::bigint";

const DOC_NAMES: &str = "SELECT name FROM doc_meta WHERE scope = $1::text";

/// The document statements, prepared on every new connection.
pub(crate) const STATEMENTS: &[&str] = &[LOAD, APPEND, COMPACT, SAVE_VERSION, VERSIONS, VERSION, DOC_NAMES];

fn check_size(bytes: &[u8]) -> Result<(), StoreError> {
    if bytes.len() > MAX_DOC_VALUE_BYTES {
        return Err(StoreError::InvalidWrite("a document value is larger than 512 MiB"));
    }
    Ok(())
}

/// The key columns every write of a document sets: storage key, scope, name.
fn key_columns(key: &DocKey) -> (Vec<u8>, String, &str) {
    (key.storage_key(), key.scope.to_string(), key.name.as_str())
}

#[async_trait]
impl DocStore for PostgresStore {
    async fn load(&self, key: &DocKey) -> Result<StoredDoc, StoreError> {
        let rows = pool::query(self.pool(), "load", LOAD, &[&key.storage_key()]).await?;
        let Some((meta, updates)) = rows.split_first() else {
            return Ok(StoredDoc::default());
        };
        if column::<i64>(meta, 0, "load")? != 0 {
            return Err(
                PostgresStoreError::Corrupt(format!("updates of {key} without a doc_meta row")).into()
            );
        }
        let mut stored = StoredDoc {
            snapshot: column(meta, 1, "load")?,
            updates: Vec::with_capacity(updates.len()),
            last_seq: codec::from_bigint(column(meta, 2, "load")?, "last_seq")?,
        };
        for row in updates {
            stored.updates.push(column(row, 1, "load")?);
        }
        Ok(stored)
    }

    async fn append(&self, key: &DocKey, update: Vec<u8>) -> Result<u64, StoreError> {
        check_size(&update)?;
        let (storage_key, scope, name) = key_columns(key);
        let row =
            pool::query_one(self.pool(), "append", APPEND, &[&storage_key, &scope, &name, &update]).await?;
        Ok(codec::from_bigint(column(&row, 0, "append")?, "seq")?)
    }

    async fn compact(&self, key: &DocKey, snapshot: Vec<u8>, through_seq: u64) -> Result<(), StoreError> {
        check_size(&snapshot)?;
        let (storage_key, scope, name) = key_columns(key);
        let Ok(through) = i64::try_from(through_seq) else {
            // Past any last_seq a store can reach; the shared rule says which refusal it is.
            return check_compaction(through_seq, i64::MAX as u64, 0);
        };
        let row = pool::query_one(
            self.pool(),
            "compact",
            COMPACT,
            &[&storage_key, &scope, &name, &through, &snapshot],
        )
        .await?;
        if column::<bool>(&row, 0, "compact")? {
            return Ok(());
        }
        let last_seq = column::<Option<i64>>(&row, 1, "compact")?.unwrap_or(0);
        let compacted_through = column::<Option<i64>>(&row, 2, "compact")?.unwrap_or(0);
        check_compaction(
            through_seq,
            codec::from_bigint(last_seq, "last_seq")?,
            codec::from_bigint(compacted_through, "compacted_through")?,
        )?;
        // Only a document created and compacted by others while this statement ran gets here:
        // the lock found nothing, and the row that then conflicted had a newer snapshot.
        Err(StoreError::InvalidWrite("compaction older than the current snapshot"))
    }

    async fn save_version(
        &self,
        key: &DocKey,
        name: String,
        created_at: Timestamp,
        state: Vec<u8>,
    ) -> Result<VersionMeta, StoreError> {
        check_size(&state)?;
        check_size(name.as_bytes())?;
        if name.contains('\0') {
            // PostgreSQL text cannot hold U+0000.
            return Err(StoreError::InvalidWrite("a version name cannot contain U+0000"));
        }
        let (storage_key, scope, doc_name) = key_columns(key);
        let row = pool::query_one(
            self.pool(),
            "save_version",
            SAVE_VERSION,
            &[&storage_key, &scope, &doc_name, &name, &created_at.as_millis(), &state],
        )
        .await?;
        let id = codec::from_bigint(column(&row, 0, "save_version")?, "version id")?;
        Ok(VersionMeta { id, name, created_at })
    }

    async fn versions(&self, key: &DocKey) -> Result<Vec<VersionMeta>, StoreError> {
        let rows = pool::query(self.pool(), "versions", VERSIONS, &[&key.storage_key()]).await?;
        let mut versions = Vec::with_capacity(rows.len());
        for row in &rows {
            versions.push(VersionMeta {
                id: codec::from_bigint(column(row, 0, "versions")?, "version id")?,
                name: column(row, 1, "versions")?,
                created_at: Timestamp::from_millis(column(row, 2, "versions")?),
            });
        }
        Ok(versions)
    }

    async fn version(&self, key: &DocKey, id: u64) -> Result<Option<(VersionMeta, Vec<u8>)>, StoreError> {
        let Ok(stored_id) = i64::try_from(id) else { return Ok(None) };
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&key.storage_key(), &stored_id];
        let Some(row) = pool::query_opt(self.pool(), "version", VERSION, &params).await? else {
            return Ok(None);
        };
        let meta = VersionMeta {
            id,
            name: column(&row, 0, "version")?,
            created_at: Timestamp::from_millis(column(&row, 1, "version")?),
        };
        Ok(Some((meta, column(&row, 2, "version")?)))
    }

    async fn doc_names(&self, scope: &Scope) -> Result<Vec<DocName>, StoreError> {
        let rows = pool::query(self.pool(), "doc_names", DOC_NAMES, &[&scope.to_string()]).await?;
        let mut names = Vec::with_capacity(rows.len());
        for row in &rows {
            let text: &str = column(row, 0, "doc_names")?;
            let name = DocName::parse(text)
                .map_err(|e| PostgresStoreError::Corrupt(format!("stored document name {text:?}: {e}")))?;
            names.push(name);
        }
        // DocName's order (bytes), whatever the database's collation.
        names.sort();
        Ok(names)
    }
}
