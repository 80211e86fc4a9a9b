//! Where sessions are kept, and the session operations built on any such place.
//!
//! A [`SessionStore`] offers a handful of atomic primitives — insert, get, compare-and-swap
//! replace, touch, list by principal, purge — that Redis, PostgreSQL, redb and memory can each
//! implement in one round trip or one transaction. [`Sessions`] builds the whole session service
//! on top of them (create, validate with lazy touch, patch with `If-Match`, rotate, revoke), so
//! every store behaves the same and the conformance suite in `testkit` (feature `testkit`) proves it.
//!
//! # Layout
//! - [`store`]: the [`SessionStore`] trait and [`StoreError`].
//! - [`codec`]: the JSON record codec every backend stores sessions with, and
//!   [`RecordCodecError`].
//! - [`cas`]: the compare-and-swap rules every store applies to its writes.
//! - [`docs`]: the [`DocStore`] trait for continuity documents: update logs, snapshots, versions.
//! - [`encrypted`]: encryption at rest as a decorator over any store: [`EncryptedSessions`]
//!   (attributes, device) and [`EncryptedDocs`] (updates, snapshots, version states).
//! - [`table`]: [`SessionTable`], a concurrent in-memory table with principal and expiry indexes.
//! - [`memory`]: [`MemoryStore`], a [`SessionStore`] on a [`SessionTable`]; nothing survives a
//!   restart.
//! - [`memory_docs`]: [`MemoryDocStore`], a [`DocStore`] in memory.
//! - [`sessions`]: [`Sessions`], the session operations with their retry loops, and
//!   [`SessionError`].
//! - [`events`]: [`SessionEvent`], what [`Sessions`] announces: created, rotated, revoked,
//!   expired.
//! - [`bus`]: the [`Bus`] trait, the port through which nodes tell each other about session
//!   events and document updates (`continuum-cluster` owns what travels on it), and the notice
//!   format every transport carries.
//! - [`denied`]: [`DenyCache`], sealed sessions revoked one by one (a deny entry per sid), read
//!   through with the epochs' staleness.
//! - [`epochs`]: [`EpochCache`], principals' epochs read through from a store with a bounded
//!   staleness (1 s by default) and `invalidate` for cross-node events.
//! - [`sealed`]: [`SealedSessions`], the sealed-cookie strategy: issue and validate sealed tokens
//!   without storing sessions, and sign a principal out everywhere by bumping its epoch.
//! - [`loss`]: [`DataLoss`], what a replicated store reports when every owner of some keys is
//!   gone.
//! - [`stores`]: [`Stores`], the session store, document store and bus one server runs on, as
//!   its assembler opened them.
//! - `testkit` (feature `testkit`): the conformance suites every store runs: sessions, and
//!   `testkit::docs` for documents.

pub mod bus;
pub mod cas;
pub mod codec;
pub mod denied;
pub mod docs;
pub mod encrypted;
pub mod epochs;
pub mod events;
pub mod loss;
pub mod memory;
pub mod memory_docs;
pub mod private_fs;
pub mod sealed;
pub mod session_cache;
pub mod sessions;
pub mod store;
pub mod stores;
pub mod table;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use bus::{Bus, Heard, Notice};
pub use codec::{RecordCodecError, decode_record, encode_record};
pub use denied::DenyCache;
pub use docs::{DocStore, StoredDoc, VersionMeta};
pub use encrypted::{AtRestError, EncryptedDocs, EncryptedSessions};
pub use epochs::EpochCache;
pub use events::{SessionEvent, SessionEventKind};
pub use loss::DataLoss;
pub use memory::MemoryStore;
pub use memory_docs::MemoryDocStore;
pub use sealed::{SealedConfig, SealedError, SealedSessions, SealedValidation};
pub use sessions::{SessionError, Sessions};
pub use store::{PurgedSession, SessionStore, StoreError};
pub use stores::Stores;
pub use table::SessionTable;
