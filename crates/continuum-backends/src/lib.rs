//! Continuum's stores, named and opened: the one crate that knows every backend, so the server
//! serves over [`Stores`](continuum_store::Stores) without depending on any of them.
//!
//! # Layout
//! - [`store_config`]: [`StoreConfig`], the store named by one string (`redb`, `redb:<dir>`,
//!   `memory`, `replicated`, `redis://…`, `redis+cluster://…`, `postgres://…`), parsed strictly and shown with
//!   passwords hidden.
//! - [`data_keys`]: encryption at rest's keys: [`key_source`] (configured, the data
//!   directory's `data-keys` file, or off) and the key file (create, read, rotate).
//! - [`open`](mod@open): [`open()`], a [`StoreConfig`] to ready stores, with [`OpenOptions`]
//!   (the embedded store's commit observer, the cluster of a replicated store) and
//!   [`OpenError`]; [`open_counted`] also returns replication's counters.
//! - `fault_modes` (feature `fault-modes`, tests only): `FaultMode`, the deliberately broken
//!   modes a node can be opened in for the fault suite, and the decorators behind them.
//!
//! # Main flow
//! The binary parses `--store` / `CONTINUUM_STORE` / the TOML key `store` into a
//! [`StoreConfig`], calls [`open()`] with the data directory, and hands the stores to
//! `continuum_server::run`, which closes them when it stops.

pub mod data_keys;
#[cfg(feature = "fault-modes")]
pub mod fault_modes;
pub mod open;
pub mod store_config;

pub use continuum_store_redb::{CommitObserver, CommitStats};
pub use data_keys::{KeySource, key_source};
#[cfg(feature = "fault-modes")]
pub use fault_modes::FaultMode;
pub use open::{OpenError, OpenOptions, Opened, STORE_FILE, SessionCacheOptions, open, open_counted};
pub use store_config::{StoreConfig, StoreUrlError, redact};
