//! The continuity-document scenarios of `continuum bench`: y-websocket clients on
//! `/v1/sync/{scope}/{name}`, on yrs and tokio-tungstenite.
//!
//! Sockets open as client sessions (`Authorization: Session <token>`) that the bench creates
//! through the backend plane first, at most [`tokens::SOCKETS_PER_SESSION`] sockets per session.
//! Every socket syncs (sends sync step 1, applies the server's sync step 2) before it is used.
//! Each scenario works on documents of a principal named after the run, so runs against the same
//! server do not share documents.
//!
//! # Layout
//! - [`wire`]: y-websocket frames in and out, durability acks included; no I/O.
//! - [`error`]: [`SyncError`], why a scenario could not go on.
//! - [`acks`]: [`acks::AckTracker`], which updates are still waiting for their ack.
//! - [`content`]: what the bench writes ([`content::MapWriter`]) and a client's copy
//!   ([`content::Replica`]).
//! - [`target`]: which document a socket opens and its `Authorization` header.
//! - [`socket`]: [`socket::SyncSocket`], one WebSocket to the server, and its errors.
//! - [`tokens`]: the sessions the sockets open as.
//! - [`open`]: opening many sockets with bounded concurrency.
//! - [`fd_limit`]: raising the open-file limit for thousands of sockets.
//! - [`latency`]: per-task latency histograms and error counts.
//! - [`subscriber`]: a reader that reconnects and resyncs when the server closes it.
//! - [`server_probe`]: the server's figures from `/metrics` and its CPU time from `/proc`.
//! - [`doc_updates`], [`fanout`], [`reconnect`], [`doc_memory`], [`burst`]: the scenarios.
//! - [`report`], [`burst_report`]: their lines and JSON objects.

pub mod acks;
pub mod burst;
pub mod burst_report;
pub mod content;
pub mod doc_memory;
pub mod doc_updates;
pub mod error;
pub mod fanout;
pub mod fd_limit;
pub mod latency;
pub mod open;
pub mod reconnect;
pub mod report;
pub mod server_probe;
pub mod socket;
pub mod subscriber;
pub mod target;
pub mod tokens;
pub mod wire;

pub use error::SyncError;
