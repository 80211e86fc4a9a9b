//! [`start_relay`]: the tasks that carry what happens on this node to where it matters — session
//! events to this node's sockets and to the other nodes, document appends to the other nodes —
//! and what the other nodes announce to this node's sockets and live documents.
//!
//! ```text
//!  Sessions::events ──► /v1/events, end the session's sockets here ──► publish on the bus
//!  DocRegistry appends ─────────────────────────────────► publish on the bus
//!  SealedSessions sign-outs everywhere ─► /v1/events ────► publish on the bus
//!  bus: session event ─► /v1/events, end the session's sockets here
//!  bus: doc appended ──► DocRegistry::apply_durable (peers here receive it)
//!  bus: signed out ────► SealedSessions::invalidate (the cached epoch is dropped), /v1/events
//!  bus: gap ───────────► /v1/events reset, DocRegistry::catch_up_all (every live document
//!                        reads its log)
//! ```
//!
//! A single node (embedded or memory store) has no bus: only the lines without one run. The bus is a
//! notification channel, not a log, so every consumer falls back on the store: sockets re-check
//! their session periodically, and documents catch up with the log after a gap and before each
//! compaction.

use std::sync::Arc;

use continuum_store::{Bus, Heard, Notice, SessionEvent};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::state::AppState;

/// Starts the relay tasks on `tasks`; they end when `cancel` fires. Call before serving, so
/// every document opened is announced.
pub fn start_relay(
    state: &AppState,
    bus: Option<Arc<dyn Bus>>,
    tasks: &TaskTracker,
    cancel: &CancellationToken,
) {
    tasks.spawn(local_events(state.clone(), bus.clone(), cancel.clone()));
    tasks.spawn(local_sign_outs(state.clone(), bus.clone(), cancel.clone()));
    let Some(bus) = bus else { return };
    let (appended, to_publish) = mpsc::unbounded_channel();
    state.registry().on_append(Arc::new(move |key, seq, update| {
        let _ = appended.send(Notice::DocAppended { key: key.clone(), seq, update: Some(update.to_vec()) });
    }));
    tasks.spawn(publish_appends(Arc::clone(&bus), to_publish, cancel.clone()));
    tasks.spawn(remote_notices(state.clone(), bus, cancel.clone()));
}

/// What a session event means on this node: readers of `/v1/events` get it, and an ended
/// session's sockets close.
fn on_session_event(state: &AppState, event: &SessionEvent) {
    state.feed().push(event.clone());
    if event.kind.ends_session() {
        let closed = state.sockets().end(&event.sid);
        if closed > 0 {
            tracing::debug!(sid = %event.sid, closed, kind = %event.kind, "closing the sockets of an ended session");
        }
    }
}

async fn local_events(state: AppState, bus: Option<Arc<dyn Bus>>, cancel: CancellationToken) {
    let mut events = state.sessions().events();
    loop {
        let event = tokio::select! {
            () = cancel.cancelled() => return,
            event = events.recv() => event,
        };
        match event {
            Ok(event) => {
                on_session_event(&state, &event);
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

async fn publish_appends(
    bus: Arc<dyn Bus>,
    mut appended: mpsc::UnboundedReceiver<Notice>,
    cancel: CancellationToken,
) {
    loop {
        let notice = tokio::select! {
            () = cancel.cancelled() => return,
            notice = appended.recv() => match notice {
                Some(notice) => notice,
                None => return,
            },
        };
        if let Err(error) = bus.publish(&notice).await {
            tracing::warn!(error = &error as &dyn std::error::Error, "announcing a document update failed");
        }
    }
}

/// This node's sign-outs everywhere: readers of `/v1/events` get them (caches of sealed tokens
/// have no per-session event to go by), and so do the other nodes.
async fn local_sign_outs(state: AppState, bus: Option<Arc<dyn Bus>>, cancel: CancellationToken) {
    let mut signed_out = state.sealed().signed_out();
    loop {
        let next = tokio::select! {
            () = cancel.cancelled() => return,
            next = signed_out.recv() => next,
        };
        match next {
            Ok(principal) => {
                state.feed().push_sign_out(principal.clone(), state.sessions().now());
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
                state.feed().reset("sign-outs everywhere may have been missed");
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

async fn remote_notices(state: AppState, bus: Arc<dyn Bus>, cancel: CancellationToken) {
    let mut heard = bus.subscribe();
    loop {
        let next = tokio::select! {
            () = cancel.cancelled() => return,
            next = heard.recv() => next,
        };
        match next {
            Ok(Heard::Notice(notice)) => match notice.as_ref() {
                Notice::Session(event) => on_session_event(&state, event),
                Notice::SignedOutEverywhere { principal } => {
                    state.sealed().invalidate(principal);
                    state.feed().push_sign_out(principal.clone(), state.sessions().now());
                }
                Notice::DocAppended { key, update, .. } => {
                    if let Err(error) = state.registry().apply_durable(key, update.as_deref()).await {
                        tracing::warn!(doc = %key, %error, "merging another node's update failed");
                    }
                }
            },
            Ok(Heard::Gap) | Err(broadcast::error::RecvError::Lagged(_)) => {
                tracing::info!("notices from other nodes may have been missed; live documents catch up");
                state.feed().reset("events from other nodes may have been missed");
                state.registry().catch_up_all().await;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
