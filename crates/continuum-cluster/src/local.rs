//! [`LocalNode`]: what the relay asks of the layer above it on this node — the effects it
//! cannot carry out itself (the server's `/v1/events` feed, its sockets).

use continuum_core::Principal;
use continuum_store::SessionEvent;

/// The effects on this node of what happens here and on the other nodes, carried out by the
/// layer above the cluster (the server). Called from the relay's tasks: every method must
/// return quickly and never block.
pub trait LocalNode: Send + Sync + 'static {
    /// A session event, this node's or another node's: readers of the node's event stream get
    /// it, and if it ends the session (see [`continuum_store::SessionEventKind::ends_session`]),
    /// the session's connections on this node close.
    fn session_event(&self, event: &SessionEvent);

    /// `principal` was signed out everywhere, by this node or another: readers of the node's
    /// event stream get it (caches of sealed tokens have no per-session event to go by). The
    /// relay has already dropped the principal's cached epoch when another node did it.
    fn signed_out(&self, principal: &Principal);

    /// Events may have been missed, for the reason `why`: whatever was derived from them (the
    /// node's event stream, cached sessions downstream) must be reset.
    fn missed(&self, why: &'static str);
}
