//! Continuum's embedded default store: sessions and continuity documents in one redb file,
//! written by one thread with group commit; sessions are read from an in-memory mirror,
//! documents from the file.
//!
//! # What an acknowledged write survives
//! When a write returns `Ok` — a session write ([`insert`](continuum_store::SessionStore::insert),
//! `replace`, `touch`, `purge_expired`) or a document write
//! ([`append`](continuum_store::DocStore::append), `compact`, `save_version`) — the transaction
//! holding it was committed with [`redb::Durability::Immediate`]: the file was fsynced before the
//! answer was sent. The write survives a crash of the process and a power loss. It does not
//! survive the loss of the disk or of the machine: nothing is copied elsewhere (use Redis or
//! PostgreSQL, or back the file up, for that). A write that failed was not acknowledged.
//!
//! # Layout
//! - [`store`]: [`RedbStore`], the [`continuum_store::SessionStore`]: opening, loading the
//!   mirror, reads, and writes handed to the writer.
//! - [`doc_store`]: [`RedbStore`] as a [`continuum_store::DocStore`]: document writes handed to
//!   the writer, document reads in read transactions on blocking threads.
//! - [`config`]: [`RedbConfig`] (batch size, queue size) and [`CommitStats`] for the commit
//!   observer.
//! - [`error`]: [`RedbStoreError`], the causes behind [`continuum_store::StoreError::Backend`].
//! - `writer`: the writer thread and its handle: the bounded queue, group commit, replies after
//!   the commit.
//! - `database`: the open file, shared by the writer and the readers until it is closed.
//! - `apply`: the write requests, session and document, and how one is applied inside the open
//!   transaction, purge included.
//! - `batch`: the compare-and-swap decisions of one batch, over the mirror plus the batch's own
//!   earlier writes; no I/O.
//! - `tables`: the only code that changes the session tables, so a session and its expiry entry
//!   change together; it opens the document tables on first use.
//! - `doc_tables`: the only code that changes the document tables: sequence numbers and version
//!   ids are assigned there, on the writer thread.
//! - `doc_reads`: load, versions and names, each in one read transaction.
//! - [`schema`]: the session tables (`sessions`, `expiry`) and the document tables (`doc_meta`,
//!   `doc_snapshots`, `doc_updates`, `doc_versions`, `doc_version_states`), their keys and
//!   encodings.
//!
//! # Main flow
//! [`RedbStore::open`] creates the tables if needed, reads every session into a
//! [`SessionTable`](continuum_store::SessionTable) (the mirror) and starts the writer thread.
//! `get`, `list_by_principal` and `count` read the mirror. A write, session or document, is
//! queued to the writer; the writer takes it with whatever else is queued, so session and
//! document writes share transactions. It checks each session request with the
//! [`continuum_store::cas`] rules against the mirror plus the batch's earlier writes and writes
//! the session and its expiry entry; it numbers each append from the document's metadata in the
//! open transaction (so concurrent appends never collide). It commits the batch with one fsync,
//! updates the mirror, and only then answers each request. A request refused by its check fails
//! alone; a failed commit fails the whole batch and leaves the mirror as it was. Document reads
//! (`load`, `versions`, `version`, `doc_names`) begin a read transaction on a blocking thread;
//! since answers come after the commit, they see every acknowledged write.
//!
//! ```no_run
//! # async fn example() -> Result<(), continuum_store::StoreError> {
//! use std::sync::Arc;
//! use continuum_core::{DocKey, SystemClock};
//! use continuum_store::{DocStore, Sessions};
//! use continuum_store_redb::{RedbConfig, RedbStore};
//!
//! let store = tokio::task::spawn_blocking(|| {
//!     RedbStore::open("data/continuum.redb".as_ref(), RedbConfig::default())
//! })
//! .await
//! .expect("open task")?;
//! let sessions = Sessions::new(Arc::new(store.clone()), Arc::new(SystemClock));
//! let docs: Arc<dyn DocStore> = Arc::new(store.clone());
//! let key = DocKey::parse("user:alice", "checkout").expect("valid key");
//! let seq = docs.append(&key, b"a Yjs update".to_vec()).await?; // durable now
//! assert_eq!(docs.load(&key).await?.last_seq, seq); // and visible to every read
//! // ... serve requests with `sessions` and `docs` ...
//! store.close().await?;
//! # Ok(())
//! # }
//! ```

mod apply;
mod batch;
pub mod config;
mod database;
mod doc_reads;
pub mod doc_store;
mod doc_tables;
pub mod error;
pub mod schema;
pub mod store;
mod tables;
mod writer;

pub use config::{CommitObserver, CommitStats, RedbConfig};
pub use error::RedbStoreError;
pub use store::RedbStore;
