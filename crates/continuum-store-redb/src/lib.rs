//! Continuum's embedded default session store: sessions in one redb file, written by one thread
//! with group commit, read from an in-memory mirror.
//!
//! # What an acknowledged write survives
//! When a write ([`insert`](continuum_store::SessionStore::insert), `replace`, `touch`,
//! `purge_expired`) returns `Ok`, the
//! transaction holding it was committed with [`redb::Durability::Immediate`]: the file was
//! fsynced before the answer was sent. The write survives a crash of the process and a power
//! loss. It does not survive the loss of the disk or of the machine: nothing is copied elsewhere
//! (use Redis or PostgreSQL, or back the file up, for that).
//!
//! # Layout
//! - [`store`]: [`RedbStore`], the [`continuum_store::SessionStore`]: opening, loading the mirror, reads, and
//!   writes handed to the writer.
//! - [`config`]: [`RedbConfig`] (batch size, queue size) and [`CommitStats`] for the commit
//!   observer.
//! - [`error`]: [`RedbStoreError`], the causes behind [`continuum_store::StoreError::Backend`].
//! - `writer`: the writer thread and its handle: the bounded queue, group commit, replies after
//!   the commit.
//! - `apply`: the write requests and how one is applied inside the open transaction, purge
//!   included.
//! - `batch`: the compare-and-swap decisions of one batch, over the mirror plus the batch's own
//!   earlier writes; no I/O.
//! - `tables`: the only code that changes the two tables, so a session and its expiry entry
//!   change together.
//! - [`schema`]: the `sessions` and `expiry` tables, their keys, and the JSON encoding.
//!
//! # Main flow
//! [`RedbStore::open`] reads every session into a
//! [`SessionTable`](continuum_store::SessionTable) (the mirror) and starts the writer thread.
//! `get`, `list_by_principal` and `len` read the mirror. A write is queued to the writer; the
//! writer takes it with whatever else is queued, checks each request with the
//! [`continuum_store::cas`] rules against the mirror plus the batch's earlier writes, writes the
//! session and its expiry entry, commits the batch with one fsync, updates the mirror, and only
//! then answers each request. A request refused by its check fails alone; a failed commit fails
//! the whole batch and leaves the mirror as it was.
//!
//! ```no_run
//! # async fn example() -> Result<(), continuum_store::StoreError> {
//! use std::sync::Arc;
//! use continuum_core::SystemClock;
//! use continuum_store::Sessions;
//! use continuum_store_redb::{RedbConfig, RedbStore};
//!
//! let store = tokio::task::spawn_blocking(|| {
//!     RedbStore::open("data/sessions.redb".as_ref(), RedbConfig::default())
//! })
//! .await
//! .expect("open task")?;
//! let sessions = Sessions::new(Arc::new(store.clone()), Arc::new(SystemClock));
//! // ... serve requests with `sessions` ...
//! store.close().await?;
//! # Ok(())
//! # }
//! ```

mod apply;
mod batch;
pub mod config;
pub mod error;
pub mod schema;
pub mod store;
mod tables;
mod writer;

pub use config::{CommitObserver, CommitStats, RedbConfig};
pub use error::RedbStoreError;
pub use store::RedbStore;
