//! Replication between nodes: a cluster of `continuum serve` nodes that hold the sessions and
//! documents themselves and copy them to each other, so a small cluster needs no shared store.
//!
//! Each key (a session by sid, a principal's epoch, a document by scope and name) has owners
//! from the rendezvous ranking of `continuum_core::placement` over the live members: a primary
//! and `k` backups (or every node). Any node takes any request; one that does not own the key
//! forwards it to the primary in one hop. The primary copies a write to its backups, waits
//! until each has it in its own store, then applies it itself and answers. Writes carry the
//! view's fingerprint: a node whose view differs refuses, so a deposed primary cannot overwrite
//! its successor. A node without a quorum of the cluster serves nothing. A write is taken only
//! while every member gossips the same view (see `ReplicaNode::views_agreed`).
//!
//! # Layout
//! - [`view`]: [`View`], [`Replicas`], [`Route`] — membership as ownership, without I/O.
//! - [`merge`]: which of two copies of a session is kept, without I/O.
//! - [`wire`]: the versioned node-to-node format; [`handshake`]: its first frames.
//! - [`membership`]: [`Membership`], the live members from chitchat.
//! - [`peers`]: [`Peers`], the connections to the other nodes.
//! - [`listener`]: the peer listener and its [`listener::Handler`].
//! - [`node`]: [`ReplicaNode`], the shared machinery (retry, copy, forward).
//! - [`doc_merge`]: what one copy of a document holds that another lacks, compared by state.
//! - `session_ops`, `doc_ops`: the operations, routed per key.
//! - `scatter_ops`: the session operations that ask every live node (list, count, purge).
//! - [`transfer`]: after a membership change, copies handed to the nodes that gained them;
//!   [`handoff`]: what the receiving node does with them.
//! - [`written`]: the views a node wrote under since its last transfer, and who may lack a
//!   key because of them, without I/O.
//! - [`adopted`]: the views a node took since its copies were last complete, and which
//!   copies it trusts because of them, without I/O.
//! - [`pending`]: session copies a backup holds whose write is not confirmed yet, without I/O.
//! - [`holdings`]: what each node publishes it holds, and what nobody holds when more than `k`
//!   owners left at once, without I/O; `report` publishes them.
//! - `serve`: what a node answers its peers.
//! - `step`: how an attempt ended, and refusals to and from store errors.
//! - [`stall`]: noticing that this node stood still, and distrusting its copies after.
//! - [`stores`]: [`ReplicatedSessions`], [`ReplicatedDocs`], [`PeerBus`]: the node as the
//!   server's stores and bus.
//! - [`metrics`]: the counters, [`ReplicationMetrics`].
//! - [`error`]: what fails, [`ReplicationError`].
//! - [`fault`]: [`fault::Cut`], peers a node cannot reach, injected by partition tests.
//! - `drop_copies` (feature `fault-modes`, tests only): a backup that acknowledges every tenth
//!   copy without storing it, for the fault suite's checker.
//! - [`start`](mod@start): [`ReplicationConfig`] and [`start()`], the entry point.

pub mod adopted;
pub mod doc_merge;
mod doc_ops;
#[cfg(feature = "fault-modes")]
pub mod drop_copies;
pub mod error;
pub mod fault;
pub mod handoff;
pub mod handshake;
pub mod holdings;
pub mod listener;
pub mod membership;
pub mod merge;
pub mod metrics;
pub mod node;
pub mod peers;
pub mod pending;
mod report;
mod scatter_ops;
mod serve;
mod session_ops;
pub mod stall;
pub mod start;
mod step;
pub mod stores;
pub mod transfer;
pub mod view;
pub mod wire;
pub mod written;

pub use error::ReplicationError;
pub use membership::Membership;
pub use metrics::ReplicationMetrics;
pub use node::ReplicaNode;
pub use peers::Peers;
pub use start::{ReplicatedNode, ReplicationConfig, start, start_with};
pub use stores::{PeerBus, ReplicatedDocs, ReplicatedSessions};
pub use view::{Replicas, Route, View};
