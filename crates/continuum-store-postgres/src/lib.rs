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
//! - [`error`]: [`PostgresStoreError`], the causes behind
//!   [`continuum_store::StoreError::Backend`], with connection failures told apart.
//!
//! # Main flow
//! [`PostgresStore::connect`] opens one connection, takes the migration lock, creates the schema
//! if missing and applies the missing migrations, then builds the pool. Each pooled connection
//! is opened with the schema as its `search_path` (in the startup packet) and prepares every
//! statement the store runs. An operation takes a connection (no round trip), runs its one
//! prepared statement (one round trip) and gives the connection back.

mod codec;
pub mod config;
mod documents;
pub mod error;
pub mod migrations;
mod pool;
mod sessions;
pub mod store;

pub use config::PostgresConfig;
pub use documents::MAX_DOC_VALUE_BYTES;
pub use error::{PostgresStoreError, is_connection_failure};
pub use store::PostgresStore;
