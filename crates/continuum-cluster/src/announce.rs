//! What happens on this node, carried to the local node and to the other nodes: session
//! events and sign-outs everywhere.

use std::sync::Arc;

use continuum_core::Principal;
use continuum_store::{Bus, Notice, SessionEvent};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::local::LocalNode;

/// This node's session events (from [`continuum_store::Sessions::events`]): the local node
/// gets each one, then the other nodes.
pub(crate) async fn session_events(
    mut events: broadcast::Receiver<SessionEvent>,
    node: Arc<dyn LocalNode>,
    bus: Option<Arc<dyn Bus>>,
    cancel: CancellationToken,
) {
    loop {
        let event = tokio::select! {
            () = cancel.cancelled() => return,
            event = events.recv() => event,
        };
        match event {
            Ok(event) => {
                node.session_event(&event);
                if let Some(bus) = &bus
                    && let Err(error) = bus.publish(&Notice::Session(event)).await
                {
                    tracing::warn!(
                        error = &error as &dyn std::error::Error,
                        "announcing a session event failed"
                    );
                }
            }
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "the relay fell behind the session events; sockets rely on their periodic check"
                );
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// This node's sign-outs everywhere (from [`continuum_store::SealedSessions::signed_out`]): the
/// local node gets each one (caches of sealed tokens have no per-session event to go by), then
/// the other nodes.
pub(crate) async fn sign_outs(
    mut signed_out: broadcast::Receiver<Principal>,
    node: Arc<dyn LocalNode>,
    bus: Option<Arc<dyn Bus>>,
    cancel: CancellationToken,
) {
    loop {
        let next = tokio::select! {
            () = cancel.cancelled() => return,
            next = signed_out.recv() => next,
        };
        match next {
            Ok(principal) => {
                node.signed_out(&principal);
                if let Some(bus) = &bus
                    && let Err(error) = bus.publish(&Notice::SignedOutEverywhere { principal }).await
                {
                    tracing::warn!(
                        error = &error as &dyn std::error::Error,
                        "announcing a sign-out everywhere failed"
                    );
                }
            }
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "sign-outs not announced; other nodes see them within the epoch TTL");
                node.missed("sign-outs everywhere may have been missed");
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
