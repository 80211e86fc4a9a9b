//! [`start_relay`]: this node's part of the cluster relay ([`continuum_cluster::Relay`], which
//! owns what the node announces and what it does with what it hears) — the effects above the
//! cluster, on this server's `/v1/events` feed and sync sockets, as a
//! [`continuum_cluster::LocalNode`].
//!
//! ```text
//!  session event (this node's or another's) ─► /v1/events; an ended session's sockets close
//!  signed out everywhere (here or elsewhere) ─► /v1/events
//!  missed (sign-outs lagged, bus gap) ───────► /v1/events reset
//! ```
//!
//! Everything else — publishing on the bus, dropping another node's signed-out epoch, merging
//! another node's document appends, catching up after a gap — is the cluster relay's (see its
//! module doc for the whole picture).

use std::sync::Arc;

use continuum_cluster::{LocalNode, Relay, RelayHandle};
use continuum_core::Principal;
use continuum_store::{Bus, SessionEvent};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::state::AppState;

/// Starts the cluster relay on `tasks`, over `bus` (`None`: a single node); its tasks end when
/// `cancel` fires. Call before serving, so every document opened is announced. The handle
/// holds the relay's counters.
pub fn start_relay(
    state: &AppState,
    bus: Option<Arc<dyn Bus>>,
    tasks: &TaskTracker,
    cancel: &CancellationToken,
) -> RelayHandle {
    let node = Arc::new(ServerNode(state.clone()));
    Relay::new(state.sessions().clone(), state.sealed().clone(), state.registry().clone(), node)
        .with_bus(bus)
        .start(tasks, cancel)
}

/// This server as the cluster relay's local node.
struct ServerNode(AppState);

impl LocalNode for ServerNode {
    /// Readers of `/v1/events` get it, and an ended session's sockets close.
    fn session_event(&self, event: &SessionEvent) {
        let state = &self.0;
        state.feed().push(event.clone());
        if event.kind.ends_session() {
            let closed = state.sockets().end(&event.sid);
            if closed > 0 {
                tracing::debug!(sid = %event.sid, closed, kind = %event.kind, "closing the sockets of an ended session");
            }
        }
    }

    fn signed_out(&self, principal: &Principal) {
        self.0.feed().push_sign_out(principal.clone(), self.0.sessions().now());
    }

    fn missed(&self, why: &'static str) {
        self.0.feed().reset(why);
    }
}
