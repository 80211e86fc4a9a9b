//! Continuum's PostgreSQL store: sessions and continuity documents in tables of one schema,
//! shared by every node of a deployment, on tokio-postgres with a deadpool connection pool.
//!
//! # What an acknowledged write survives
//! Every write — a session write ([`insert`](continuum_store::SessionStore::insert), `replace`,
//! `touch`, `purge_expired`) or a document write ([`append`](continuum_store::DocStore::append),
//! `compact`, `save_version`) — is one statement in its own transaction, and returns `Ok` only
//! after PostgreSQL answered that the transaction committed. With the server's default
//! `synchronous_commit = on`, the commit record was flushed to the write-ahead log first, so the
//! write survives a crash of PostgreSQL and a power loss of the database host — provided the
//! server runs with `fsync = on` on storage that honours flushes. It survives the loss of the
//! database host only as far as PostgreSQL's replication is configured to (e.g. synchronous
//! standbys with `synchronous_commit = remote_apply`); this store adds no copy of its own. It
//! survives the loss of any Continuum node: nodes keep nothing. A write that returned an error
//! was not acknowledged; if the error is [`PostgresStoreError::ConnectionLost`], it may or may
//! not have committed. Reads see every write acknowledged before they started, on any node.
//!
//! # Layout
//! - [`config`]: [`PostgresConfig`] — the URL, the schema, the pool's size and timeouts.
//! - [`store`]: [`PostgresStore`] — connecting, migrating, the pool, `ping`.
//! - `pool`: the deadpool-postgres pool; every statement prepared when a connection opens.
//! - [`migrations`]: the embedded `migrations/*.sql`, applied at start in one transaction under
//!   an advisory lock and recorded in `continuum_migrations`.
//! - `sessions`: [`PostgresStore`] as a [`continuum_store::SessionStore`]; one statement each.
//! - `documents`: [`PostgresStore`] as a [`continuum_store::DocStore`]; one statement each.
//! - `codec`: records to and from their stored JSON, counters to and from `bigint`.
//! - [`bus`]: [`PostgresBus`], the nodes' [`continuum_store::Bus`] on `LISTEN`/`NOTIFY`.
//! - [`error`]: [`PostgresStoreError`], the causes behind
//!   [`continuum_store::StoreError::Backend`], with connection failures told apart.
//!
//! # Main flow
//! [`PostgresStore::connect`] opens one connection, takes the migration lock, creates the schema
//! if missing and applies the missing migrations, then builds the pool. Each pooled connection
//! is opened with the schema as its `search_path` (in the startup packet) and prepares every
//! statement the store runs. An operation takes a connection (no round trip), runs its one
//! prepared statement (one round trip) and gives the connection back.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use continuum_core::SystemClock;
//! use continuum_store::{DocStore, Sessions};
//! use continuum_store_postgres::{PostgresConfig, PostgresStore};
//!
//! let config = PostgresConfig::parse("postgres://continuum@db.internal/continuum")?.with_schema("continuum");
//! let store = PostgresStore::connect(config).await?; // fails at once if PostgreSQL is unreachable
//! let sessions = Sessions::new(Arc::new(store.clone()), Arc::new(SystemClock));
//! let docs: Arc<dyn DocStore> = Arc::new(store);
//! # Ok(())
//! # }
//! ```
//!
//! # Schema
//! `migrations/0001_sessions.sql`, `0002_documents.sql` and `0003_principal_epochs.sql` say it
//! all; in short:
//! - `sessions(sid bytea PK, principal text, version bigint, status text, last_seen_at bigint,
//!   idle_timeout_ms bigint, absolute_expires_at bigint, purge_at bigint, record bytea)`, indexed
//!   on `principal` and on `purge_at`. `record` is the serde_json of the
//!   [`SessionRecord`](continuum_core::SessionRecord); the other columns are the copies SQL needs.
//! - `doc_meta(storage_key bytea PK, scope text, name text, last_seq, compacted_through,
//!   last_version, snapshot bytea)` indexed on `scope`; `doc_updates(storage_key, seq, update,
//!   PK (storage_key, seq))`; `doc_versions(storage_key, id, name, created_at, state,
//!   PK (storage_key, id))`. Keys are [`DocKey::storage_key`](continuum_core::DocKey::storage_key).
//! - `principal_epochs(principal text PK, epoch bigint)`: sign-outs everywhere, for sealed tokens.
//! - `continuum_migrations(version, name, applied_at)`.
//!
//! # Statements per operation
//! Each operation below is one prepared statement, one round trip, one transaction
//! (`tests/round_trips.rs` counts them on the wire). Taking a pooled connection sends nothing.
//!
//! | operation | statement |
//! |---|---|
//! | `get` | `SELECT` by primary key |
//! | `insert` | `INSERT … ON CONFLICT (sid) DO NOTHING`; no row → `AlreadyExists` |
//! | `replace` | CTE: `SELECT … FOR UPDATE` of the row, `UPDATE … WHERE` version, principal and growth match; returns the current version and principal so a refusal is `NotFound`, `VersionConflict { actual }` or `InvalidWrite` by [`continuum_store::cas::check_replace`] |
//! | `touch` | `UPDATE … SET last_seen_at, purge_at WHERE status = 'active' AND last_seen_at < $at` |
//! | `list_by_principal` | `SELECT` on the principal index |
//! | `purge_expired` | `DELETE … WHERE sid IN (SELECT … WHERE purge_at <= $now ORDER BY purge_at LIMIT $n FOR UPDATE SKIP LOCKED)` |
//! | `count` | `SELECT count(*)` |
//! | `principal_epoch` | `SELECT` by primary key; no row is 0 |
//! | `bump_principal_epoch` | `INSERT … ON CONFLICT (principal) DO UPDATE SET epoch = epoch + 1 RETURNING epoch` |
//! | `load` | `SELECT` of the meta row `UNION ALL` the updates after the snapshot |
//! | `append` | CTE: upsert `doc_meta` bumping `last_seq`, insert the update with that number |
//! | `compact` | CTE: lock `doc_meta`, upsert the snapshot if [`check_compaction`](continuum_store::docs::check_compaction) holds on the locked row, delete the covered updates |
//! | `save_version` | CTE: upsert `doc_meta` bumping `last_version`, insert the version |
//! | `versions`, `version`, `doc_names` | one `SELECT` each |
//!
//! Through [`continuum_store::Sessions`]: a validation is one round trip (the `get`) and a second
//! only when the lazy touch is due; a patch, rotation or revocation is a `get` and a `replace`,
//! plus one more pair per lost compare-and-swap race.
//!
//! # Decisions
//! - **The record is `bytea`, not `jsonb`.** jsonb refuses `\u0000` in strings (which session
//!   attributes may hold) and rewrites numbers and key order; `bytea` returns exactly what was
//!   written, like the other stores. SQL never looks inside the record: the columns it needs are
//!   copies. Consequently a touch updates the `last_seen_at` column, not the JSON, and every read
//!   puts the column's value back into the record; a `replace` rewrites both.
//! - **Times are `bigint` milliseconds**, as [`Timestamp`](continuum_core::Timestamp) is: exact,
//!   and saturated deadlines (`i64::MAX`) fit where `timestamptz` would not.
//! - **Every statement is prepared when a connection opens** (a deadpool `post_create` hook,
//!   pipelined), not on first use, so even a fresh connection spends one round trip per
//!   operation; connections are recycled without a check query (`RecyclingMethod::Fast`).
//! - **The compare-and-swap locks before it compares.** Under READ COMMITTED a plain
//!   `UPDATE … WHERE version = $n` is already safe, but telling `VersionConflict { actual }` from
//!   `NotFound` in the same statement needs the current version, and a snapshot read of it can be
//!   stale; `FOR UPDATE` waits for a concurrent writer and reads what it committed.
//! - **The schema comes from the startup packet** (`options=-c search_path=<schema>`), so every
//!   pooled connection is in it from its first statement, at no cost. Schema names are limited to
//!   what needs no quoting.
//! - **Migrations** are plain SQL files applied in one transaction under
//!   `pg_advisory_xact_lock`, keyed by the schema: concurrent starts serialize and the later ones
//!   find the work done; a failure leaves nothing half-applied. A database migrated by a newer
//!   build (an unknown version recorded) is refused rather than used.
//! - **Compaction is one statement**, racing appends included: an update committed while the
//!   compaction ran that its delete did not see is never loaded twice, as loads skip updates at
//!   or below `compacted_through`.
//! - Version names are `text`: a name with U+0000 is refused with
//!   [`StoreError::InvalidWrite`](continuum_store::StoreError::InvalidWrite). Values larger than
//!   [`MAX_DOC_VALUE_BYTES`] are refused before they are sent.
//! - There is no statement timeout of the store's own: a URL may set one
//!   (`options=-c statement_timeout=5s`), and `tcp_user_timeout` / keepalive settings for dead
//!   networks.
//!
//! # Not here yet
//! - TLS: connections are plain TCP (`NoTls`); a URL with `sslmode=require` fails to connect
//!   with [`PostgresStoreError::Connect`]. Run PostgreSQL on a trusted network or add a TLS
//!   connector (postgres-rustls or postgres-native-tls) here.
//! - Cross-node fan-out of document updates and revocations (LISTEN/NOTIFY) and the server's
//!   `postgres://` wiring belong to the rest of issue 5.

pub mod bus;
mod codec;
pub mod config;
mod documents;
pub mod error;
pub mod migrations;
mod pool;
mod sessions;
pub mod store;

pub use bus::PostgresBus;
pub use config::PostgresConfig;
pub use documents::MAX_DOC_VALUE_BYTES;
pub use error::{PostgresStoreError, is_connection_failure};
pub use store::PostgresStore;
