//! Continuity documents on [yrs]: the y-websocket protocol, one live document per key, its
//! persistence (an update log compacted into snapshots), named versions, a JSON view, and
//! durability acks.
//!
//! The crate moves no bytes over a network: a transport (the server's WebSocket route) hands
//! each binary message to a [`Peer`] and sends back what the peer returns, so the stock npm
//! `y-websocket` client works against it unmodified.
//!
//! # Layout
//! - [`config`]: [`SyncConfig`], thresholds and bounds.
//! - [`error`]: [`SyncError`], one variant per cause.
//! - [`protocol`]: y-websocket messages decoded and encoded as pure functions.
//! - [`ack`]: the durability ack message (type 100) that Continuum adds, and its wire format.
//! - `registry`: [`DocRegistry`], one [`LiveDoc`] per key, loaded on open, evicted when unheld.
//! - `load`: reading a document's snapshot and updates from the store before serving it.
//! - `live_doc`: [`LiveDoc`], the document in memory, its JSON API and how changes are committed.
//! - [`listing`]: [`LiveDocListing`], which documents are live and which sessions are connected.
//! - `awareness`: awareness changes gathered per tick and flushed as one message per peer (cut
//!   into messages of bounded size).
//! - [`metrics`]: [`SyncMetrics`] counters and the [`SyncSnapshot`] a metrics endpoint renders.
//! - `state`: the document's mutable state under one lock: yrs, awareness, peers, fan-out.
//! - `peer`: [`Peer`] and [`PeerOptions`], one client connection's protocol state.
//! - `outbox`: a peer's bounded outbound queue, which holds no memory while empty.
//! - `persist`: the per-document task that appends changes in order, acks them, compacts.
//! - `remote`: merging updates other nodes appended to a shared store, announced or read back.
//! - `history`: named versions — save, list, read, restore as a new change.
//! - [`json`]: JSON views of yrs values and documents, RFC 7396 merge patches on plain JSON.
//! - `patch`: merge patches and restores written into root maps.
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
pub mod config;
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

pub use ack::{decode_ack, encode_ack};
pub use config::SyncConfig;
pub use continuum_store::VersionMeta;
pub use error::SyncError;
pub use listing::LiveDocListing;
pub use live_doc::LiveDoc;
pub use metrics::{SyncMetrics, SyncSnapshot};
pub use peer::{Peer, PeerOptions};
pub use registry::{AppendHook, DocRegistry};
