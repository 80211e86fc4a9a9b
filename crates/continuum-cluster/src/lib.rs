//! Continuum's cluster: how this node tells the other nodes of one deployment what changed here,
//! and what it does with what they tell it.
//!
//! This crate owns the relay. What a node announces — its session events, its sign-outs
//! everywhere, the updates its documents append — and what it does with what it hears —
//! another node's session events, sign-outs (the cached epoch is dropped), document appends
//! (merged into the live document), gaps (every live document reads its log) — are decided
//! here. The channel between the nodes is a [`continuum_store::Bus`]: the port a source
//! implements (a shared store's pub/sub today, Redis or PostgreSQL; peer-to-peer replication
//! next). The effects above this crate — the server's `/v1/events` feed and its sockets — go
//! through [`LocalNode`], which the server implements, so this crate imports nothing above it.
//!
//! # Layout
//! - [`local`]: [`LocalNode`], the effects on this node that the layer above carries out.
//! - [`relay`]: [`Relay`] and [`RelayConfig`], the one entry point: [`Relay::start`] spawns the
//!   relay's tasks and returns a [`RelayHandle`].
//! - `announce`: this node's session events and sign-outs, to the local node and the bus.
//! - `appends`: the bounded queue of document appends to announce, and what happens when full.
//! - `unsent`: the documents whose append was announced without its bytes (the queue was full),
//!   a decision without I/O.
//! - `hear`: what the other nodes announce, carried out on this node.
//! - [`metrics`]: [`RelayMetrics`], the relay's counters.
//! - [`memory_bus`]: [`MemoryBus`], a bus between the nodes of one process (tests, examples).
//! - [`replication`]: the replicated strategy: nodes that hold the sessions and documents
//!   themselves, a primary and `k` backups per key, presented to the server as one more
//!   session store, document store and bus ([`replication::start`]).
//! - [`session_cache`]: an origin node's cache of sessions in front of a shared store, kept
//!   honest by what every node announces on the bus ([`session_cache::start`]).
//!
//! # Main flow
//! The server builds a [`Relay`] over its session services, its document registry, its bus
//! (none for a single node) and its [`LocalNode`], and calls [`Relay::start`] before serving, so
//! every document opened afterwards has its appends announced. The tasks end when the
//! cancellation token fires. A bus is a notification channel, not a log: whatever may have been
//! missed is reconciled with the store, which stays the source of truth.

mod announce;
mod appends;
mod hear;
pub mod local;
pub mod memory_bus;
pub mod metrics;
pub mod relay;
pub mod replication;
pub mod session_cache;
mod unsent;

pub use local::LocalNode;
pub use memory_bus::MemoryBus;
pub use metrics::RelayMetrics;
pub use relay::{APPEND_QUEUE_CAPACITY, Relay, RelayConfig, RelayHandle};
