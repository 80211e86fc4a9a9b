//! The schema migrations in `migrations/*.sql`, embedded in the binary and applied at start.
//!
//! [`PostgresStore::connect`](crate::PostgresStore::connect) migrates in one transaction on a
//! connection of its own: it takes a transaction-scoped advisory lock named after the schema (so
//! nodes starting at once take turns, and the later ones find the work done), creates the schema
//! if one is configured and missing, creates the `continuum_migrations` bookkeeping table, checks
//! the migrations already recorded against this build's list, and applies and records the
//! missing ones in order. Any failure rolls the whole
//! transaction back: a schema is never left half-migrated. PostgreSQL's DDL is transactional, so
//! this holds for `CREATE TABLE` and `CREATE INDEX` too.

use tokio_postgres::Client;

use crate::error::PostgresStoreError;

/// One migration: its number (from 1, contiguous), its name, and its SQL.
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    /// Applied in increasing order; recorded in `continuum_migrations.version`.
    pub version: i32,
    /// The file name without `.sql`; recorded in `continuum_migrations.name`.
    pub name: &'static str,
    /// The statements, run with the simple query protocol.
    pub sql: &'static str,
}

/// Every migration this build knows, in order. Released migrations are never edited: a change is
/// a new file with the next number.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "0001_sessions", sql: include_str!("../migrations/0001_sessions.sql") },
    Migration { version: 2, name: "0002_documents", sql: include_str!("../migrations/0002_documents.sql") },
    Migration {
        version: 3,
        name: "0003_principal_epochs",
        sql: include_str!("../migrations/0003_principal_epochs.sql"),
    },
];

/// The bookkeeping table, created in the store's schema before anything else.
const BOOKKEEPING: &str = "CREATE TABLE IF NOT EXISTS continuum_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)";

/// Brings the schema up to date; returns the versions it applied (empty when it was current).
/// `schema` is the configured schema (already checked to need no quoting), `None` for the
/// connection's default `search_path`.
pub(crate) async fn migrate(
    client: &mut Client,
    schema: Option<&str>,
) -> Result<Vec<i32>, PostgresStoreError> {
    let step = |step: &str| {
        let step = step.to_owned();
        move |source| PostgresStoreError::Migrate { step, source }
    };
    let tx = client.transaction().await.map_err(step("begin"))?;
    // One lock per schema: nodes of one deployment serialize, separate schemas do not.
    let lock_name = format!("continuum migrations: {}", schema.unwrap_or("(search_path)"));
    tx.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", &[&lock_name])
        .await
        .map_err(step("advisory lock"))?;
    if let Some(schema) = schema {
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await
            .map_err(step("create schema"))?;
    }
    tx.batch_execute(BOOKKEEPING).await.map_err(step("create continuum_migrations"))?;
    let recorded = tx
        .query("SELECT version, name FROM continuum_migrations ORDER BY version", &[])
        .await
        .map_err(step("read continuum_migrations"))?;
    let mut applied_before = Vec::with_capacity(recorded.len());
    for row in &recorded {
        let (version, name): (i32, String) = (row.get(0), row.get(1));
        match MIGRATIONS.iter().find(|migration| migration.version == version) {
            None => return Err(PostgresStoreError::UnknownMigration { version, name }),
            Some(known) if known.name != name => {
                return Err(PostgresStoreError::MigrationMismatch {
                    version,
                    expected: known.name,
                    found: name,
                });
            }
            Some(_) => applied_before.push(version),
        }
    }
    let mut applied_now = Vec::new();
    for migration in MIGRATIONS.iter().filter(|migration| !applied_before.contains(&migration.version)) {
        tx.batch_execute(migration.sql).await.map_err(step(migration.name))?;
        tx.execute(
            "INSERT INTO continuum_migrations (version, name) VALUES ($1, $2)",
            &[&migration.version, &migration.name],
        )
        .await
        .map_err(step("record migration"))?;
        applied_now.push(migration.version);
    }
    tx.commit().await.map_err(step("commit"))?;
    if !applied_now.is_empty() {
        tracing::info!(schema = schema.unwrap_or("(search_path)"), versions = ?applied_now, "applied migrations");
    }
    Ok(applied_now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_from_one_without_gaps_and_named_after_their_files() {
        for (i, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, i as i32 + 1);
            assert!(migration.name.starts_with(&format!("{:04}_", migration.version)), "{}", migration.name);
            assert!(!migration.sql.trim().is_empty());
        }
    }
}
