//! The y-websocket protocol's message codes (v1), and the one code Continuum adds, shared by
//! every tier that reads or writes the protocol: the sync server, the edge, the gateway's checks
//! and the load generator.
//!
//! A WebSocket message is `[varUint type][payload]`; a sync message's payload starts with
//! `[varUint sync type]`. Numbers are lib0 variable-length unsigned integers.

/// A sync message: step 1, step 2 or an update follows.
pub const MSG_SYNC: u64 = 0;
/// An awareness update.
pub const MSG_AWARENESS: u64 = 1;
/// An auth message (`[0, reason]` denied or `[1]` granted).
pub const MSG_AUTH: u64 = 2;
/// A request for every awareness state.
pub const MSG_QUERY_AWARENESS: u64 = 3;
/// Continuum's durability ack, `[100][varUint n]`: the first `n` content-bearing messages the
/// peer sent are durable. Sent only to peers that asked for acks.
pub const MSG_ACK: u64 = 100;
/// Continuum's edge durability ack, `[101][varUint n]`: the first `n` content-bearing messages
/// the peer sent are in an edge's durable queue (fsynced), not yet at the origin. Sent by an
/// edge, only to peers that asked for acks; the origin's store having them is still [`MSG_ACK`].
pub const MSG_ACK_EDGE: u64 = 101;

/// Sync step 1: the sender's state vector.
pub const SYNC_STEP_1: u64 = 0;
/// Sync step 2: what the receiver lacked.
pub const SYNC_STEP_2: u64 = 1;
/// A sync update: one change.
pub const SYNC_UPDATE: u64 = 2;
