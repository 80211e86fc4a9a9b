//! [`PostgresStore`] as a [`SessionStore`]: every operation is one prepared statement, so one
//! round trip, and every write is one autocommitted transaction.
//!
//! The compare-and-swap of [`SessionStore::replace`] happens inside PostgreSQL: a CTE locks the
//! row (`FOR UPDATE`, which under READ COMMITTED waits for a concurrent writer and then reads the
//! version it committed), the `UPDATE` runs only if that version is the expected one, the
//! principal is unchanged and the version grows, and the statement returns the current version
//! and principal with whether it wrote. On a refusal, [`cas::check_replace`] is applied to those
//! returned values, so the error (`NotFound`, `VersionConflict { actual }`, `InvalidWrite`) is the
//! one every store gives, and `actual` is the version that is really there.

use std::sync::Arc;

use async_trait::async_trait;
use continuum_core::{Principal, SessionId, SessionRecord, Status, Timestamp};
use continuum_store::{PurgedSession, SessionStore, StoreError, cas};

use crate::codec::{self, column};
use crate::error::PostgresStoreError;
use crate::pool;
use crate::store::PostgresStore;

const INSERT: &str = "INSERT INTO sessions
    (sid, principal, version, status, last_seen_at, idle_timeout_ms, absolute_expires_at, purge_at, record)
    VALUES ($1::bytea, $2::text, $3::bigint, $4::text, $5::bigint, $6::bigint, $7::bigint, $8::bigint, $9::bytea)
    ON CONFLICT (sid) DO NOTHING";

const GET: &str = "SELECT record, last_seen_at FROM sessions WHERE sid = $1::bytea";

const REPLACE: &str = "WITH current AS (
        SELECT version, principal FROM sessions WHERE sid = $1::bytea FOR UPDATE
    ), written AS (
        UPDATE sessions
        SET version = $4::bigint, status = $5::text, last_seen_at = $6::bigint,
            idle_timeout_ms = $7::bigint, absolute_expires_at = $8::bigint, purge_at = $9::bigint,
            record = $10::bytea
        WHERE sid = $1::bytea
          AND (SELECT version FROM current) = $2::bigint
          AND (SELECT principal FROM current) = $3::text
          AND $4::bigint > $2::bigint
        RETURNING 1
    )
    SELECT version, principal, EXISTS (SELECT 1 FROM written) FROM current";

/// Moves `last_seen_at` and the purge deadline (`min(last_seen + idle, absolute)`, computed in
/// numeric so it cannot overflow) of an active session, forward only; the version stays.
const TOUCH: &str = "UPDATE sessions
    SET last_seen_at = $2::bigint,
        purge_at = LEAST(absolute_expires_at::numeric, $2::bigint::numeric + idle_timeout_ms)::bigint
    WHERE sid = $1::bytea AND status = 'active' AND last_seen_at < $2::bigint";

const LIST_BY_PRINCIPAL: &str = "SELECT sid, record, last_seen_at FROM sessions WHERE principal = $1::text";

/// Rows another sweeper (or a writer) holds are skipped, not waited for, so nodes sweeping at
/// once share the work and none blocks; a row is deleted by exactly one of them.
const PURGE_EXPIRED: &str = "DELETE FROM sessions WHERE sid IN (
        SELECT sid FROM sessions WHERE purge_at <= $1::bigint
        ORDER BY purge_at LIMIT $2::bigint
        FOR UPDATE SKIP LOCKED
    ) RETURNING sid, principal, status";

const COUNT: &str = "SELECT count(*) FROM sessions";

const PRINCIPAL_EPOCH: &str = "SELECT epoch FROM principal_epochs WHERE principal = $1::text";

/// One statement: the row is created at 1 or incremented under its row lock, so concurrent bumps
/// serialize and each returns its own value.
const BUMP_PRINCIPAL_EPOCH: &str = "INSERT INTO principal_epochs (principal, epoch) VALUES ($1::text, 1)
    ON CONFLICT (principal) DO UPDATE SET epoch = principal_epochs.epoch + 1
    RETURNING epoch";

/// The session statements, prepared on every new connection.
pub(crate) const STATEMENTS: &[&str] = &[
    INSERT,
    GET,
    REPLACE,
    TOUCH,
    LIST_BY_PRINCIPAL,
    PURGE_EXPIRED,
    COUNT,
    PRINCIPAL_EPOCH,
    BUMP_PRINCIPAL_EPOCH,
];

/// The columns of a record, in the order of the `INSERT` and `REPLACE` parameters from the
/// version on.
struct Columns {
    version: i64,
    status: &'static str,
    last_seen_at: i64,
    idle_timeout_ms: i64,
    absolute_expires_at: i64,
    purge_at: i64,
    record: Vec<u8>,
}

impl Columns {
    fn of(record: &SessionRecord) -> Result<Self, StoreError> {
        Ok(Self {
            version: codec::to_bigint(record.version, "a version past i64::MAX cannot be stored")?,
            status: codec::status_text(record.status),
            last_seen_at: record.last_seen_at.as_millis(),
            idle_timeout_ms: codec::idle_timeout_ms(record),
            absolute_expires_at: record.absolute_expires_at.as_millis(),
            purge_at: record.purge_at().as_millis(),
            record: codec::encode(record)?,
        })
    }
}

#[async_trait]
impl SessionStore for PostgresStore {
    async fn insert(&self, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        let c = Columns::of(&record)?;
        let sid: &[u8] = record.sid.as_bytes();
        let inserted = pool::execute(
            self.pool(),
            "insert",
            INSERT,
            &[
                &sid,
                &record.principal.as_str(),
                &c.version,
                &c.status,
                &c.last_seen_at,
                &c.idle_timeout_ms,
                &c.absolute_expires_at,
                &c.purge_at,
                &c.record,
            ],
        )
        .await?;
        if inserted == 0 {
            return Err(StoreError::AlreadyExists);
        }
        Ok(())
    }

    async fn get(&self, sid: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        let key: &[u8] = sid.as_bytes();
        let Some(row) = pool::query_opt(self.pool(), "get", GET, &[&key]).await? else {
            return Ok(None);
        };
        let record = codec::decode(*sid, column(&row, 0, "get")?, column(&row, 1, "get")?)?;
        Ok(Some(Arc::new(record)))
    }

    async fn replace(&self, expected_version: u64, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        let expected = codec::to_bigint(expected_version, "a version past i64::MAX cannot be stored")?;
        let c = Columns::of(&record)?;
        let sid: &[u8] = record.sid.as_bytes();
        let row = pool::query_opt(
            self.pool(),
            "replace",
            REPLACE,
            &[
                &sid,
                &expected,
                &record.principal.as_str(),
                &c.version,
                &c.status,
                &c.last_seen_at,
                &c.idle_timeout_ms,
                &c.absolute_expires_at,
                &c.purge_at,
                &c.record,
            ],
        )
        .await?;
        let Some(row) = row else {
            return cas::check_replace(None, expected_version, &record);
        };
        if column::<bool>(&row, 2, "replace")? {
            return Ok(());
        }
        // Refused: the same rules as every store, applied to what is stored now.
        let version = codec::from_bigint(column(&row, 0, "replace")?, "version")?;
        let principal = Principal::parse_any(column(&row, 1, "replace")?)
            .map_err(|e| PostgresStoreError::Corrupt(format!("stored principal: {e}")))?;
        let current = SessionRecord { version, principal, ..(*record).clone() };
        cas::check_replace(Some(&current), expected_version, &record)?;
        Err(PostgresStoreError::UnexpectedAnswer("replace").into())
    }

    async fn touch(&self, sid: &SessionId, at: Timestamp) -> Result<(), StoreError> {
        let key: &[u8] = sid.as_bytes();
        pool::execute(self.pool(), "touch", TOUCH, &[&key, &at.as_millis()]).await?;
        Ok(())
    }

    async fn list_by_principal(&self, principal: &Principal) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        let rows =
            pool::query(self.pool(), "list_by_principal", LIST_BY_PRINCIPAL, &[&principal.as_str()]).await?;
        let mut records = Vec::with_capacity(rows.len());
        for row in &rows {
            let sid = codec::sid_from_key(column(row, 0, "list_by_principal")?)?;
            let record = codec::decode(
                sid,
                column(row, 1, "list_by_principal")?,
                column(row, 2, "list_by_principal")?,
            )?;
            records.push(Arc::new(record));
        }
        Ok(records)
    }

    async fn purge_expired(&self, now: Timestamp, limit: usize) -> Result<Vec<PurgedSession>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows =
            pool::query(self.pool(), "purge_expired", PURGE_EXPIRED, &[&now.as_millis(), &limit]).await?;
        rows.iter()
            .map(|row| {
                let sid = codec::sid_from_key(column(row, 0, "sid")?)?;
                let principal: String = column(row, 1, "principal")?;
                let principal = Principal::parse_any(&principal).map_err(StoreError::backend)?;
                let status: String = column(row, 2, "status")?;
                Ok(PurgedSession { sid, principal, expired: status == codec::status_text(Status::Active) })
            })
            .collect()
    }

    async fn principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        let row =
            pool::query_opt(self.pool(), "principal_epoch", PRINCIPAL_EPOCH, &[&principal.as_str()]).await?;
        match row {
            Some(row) => Ok(codec::from_bigint(column(&row, 0, "principal_epoch")?, "epoch")?),
            None => Ok(0),
        }
    }

    async fn bump_principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        let row = pool::query_one(
            self.pool(),
            "bump_principal_epoch",
            BUMP_PRINCIPAL_EPOCH,
            &[&principal.as_str()],
        )
        .await?;
        Ok(codec::from_bigint(column(&row, 0, "bump_principal_epoch")?, "epoch")?)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        PostgresStore::ping(self).await.map_err(StoreError::backend)
    }

    async fn count(&self) -> Result<u64, StoreError> {
        let row = pool::query_one(self.pool(), "count", COUNT, &[]).await?;
        Ok(codec::from_bigint(column(&row, 0, "count")?, "count")?)
    }

    /// Closes the pool: later operations fail with [`StoreError::Closed`]. Every write that
    /// returned `Ok` was already committed, so there is nothing to flush.
    async fn close(&self) -> Result<(), StoreError> {
        self.pool().close();
        Ok(())
    }
}
