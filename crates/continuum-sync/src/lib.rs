//! Continuity documents on [yrs]: the y-websocket protocol, one live document per key, its
//! persistence (an update log compacted into snapshots), named versions, a JSON view, and
//! durability acks.
//!
//! The crate moves no bytes over a network: a transport (the server's WebSocket route) hands
//! each binary message to a [`Peer`] and sends back what the peer returns, so the stock npm
//! `y-websocket` client works against it unmodified.
//!
//! # Layout
//! Listed from the bottom up: each module uses only modules listed before it (none uses the
//! state of one above it); `docs/design.md` draws the picture.
//! - [`config`]: [`SyncConfig`], thresholds and bounds.
//! - [`error`]: [`SyncError`], one variant per cause.
//! - [`protocol`]: y-websocket messages decoded and encoded as pure functions.
//! - [`ack`]: the durability ack message (type 100) that Continuum adds, and its wire format.
//! - [`json`]: JSON views of yrs values and documents, RFC 7396 merge patches on plain JSON.
//! - `patch`: merge patches and restores written into root maps.
//! - [`listing`]: [`LiveDocListing`], which documents are live and which sessions are connected.
//! - [`metrics`]: [`SyncMetrics`] counters and the [`SyncSnapshot`] a metrics endpoint renders.
//! - `outbox`: a peer's bounded outbound queue, which holds no memory while empty.
//! - `awareness`: awareness changes gathered per tick, cut into messages of bounded size.
//! - `state`: the document's mutable state under one lock: yrs, awareness, peers, fan-out.
//! - `persist`: the per-document task that appends changes in order, acks them, compacts; it
//!   sees its document through the `PersistedDoc` trait and reports its end through a callback.
//! - `doc_core`: the document's key and locked state, shared with its tasks; implements
//!   `PersistedDoc`.
//! - `awareness_ticker`: the per-document task that flushes awareness once per tick.
//! - `load`: reading a document's snapshot and updates from the store before serving it.
//! - `live_doc`: [`LiveDoc`], the document in memory, its JSON API and how changes are committed.
//! - `peer`: [`Peer`] and [`PeerOptions`], one client connection's protocol state, and
//!   [`LiveDoc::connect`].
//! - `remote`: merging updates other nodes appended to a shared store, announced or read back,
//!   and applying updates that came down from the tier above.
//! - `history`: named versions — save, list, read, restore as a new change.
//! - `registry`: [`DocRegistry`], one [`LiveDoc`] per key, loaded on open, evicted when unheld;
//!   it starts each document's tasks and passes the persister what to do when it ends.
//!
//! # Main flow
//! The server opens a document with [`DocRegistry::open`] (loaded completely before it
//! returns), attaches each WebSocket with [`LiveDoc::connect`], sends [`Peer::take_greeting`], then
//! loops: each inbound message goes to [`Peer::receive`] and its replies back to the client;
//! [`Peer::next_outbound`] (and, without waiting, [`Peer::try_next_outbound`]) yields what other
//! peers changed — one encoded message shared by every peer — awareness changes (gathered per
//! [`SyncConfig::awareness_tick`], one message per peer per tick) and acks. A
//! change is applied and broadcast at once, then appended to the [`continuum_store::DocStore`]
//! in order by the document's persistence task, which acks it (for peers that asked) only once
//! the append returned. Dropping the last peer and handle writes the queue out and frees the
//! document.

pub mod ack;
mod awareness;
mod awareness_ticker;
pub mod config;
mod doc_core;
pub mod error;
mod history;
pub mod json;
pub mod listing;
mod live_doc;
mod load;
pub mod metrics;
mod outbox;
mod patch;
mod peer;
mod persist;
pub mod protocol;
mod registry;
mod remote;
mod state;

pub use ack::{decode_ack, encode_ack, encode_ack_as};
pub use config::SyncConfig;
pub use continuum_store::VersionMeta;
pub use error::SyncError;
pub use listing::LiveDocListing;
pub use live_doc::{LiveDoc, PeersHook};
pub use metrics::{SyncMetrics, SyncSnapshot};
pub use peer::{Peer, PeerOptions};
pub use persist::{AppendHook, UpstreamCheck};
pub use registry::DocRegistry;
pub use state::MAX_RELAYED_CLIENTS;
