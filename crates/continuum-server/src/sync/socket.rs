//! [`serve_socket`]: one sync WebSocket — y-websocket messages between the socket and a
//! [`Peer`], until either side closes, the session ends, or the peer falls behind.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use continuum_sync::{Peer, SyncError};

use super::access::Opener;
use super::limits::SocketSlot;
use super::outbound::write_batch;
use crate::state::AppState;

/// How often a socket re-checks that its session is still live, by default. A revocation
/// closes the session's sockets at once (through [`SocketSlot::ended`], from this node's session
/// events and the other nodes' over the bus); the check is what catches idle and absolute expiry,
/// and revocations whose announcement was lost.
pub const SESSION_CHECK: Duration = Duration::from_millis(250);

/// Close codes this server sends (4000-4999 are application codes).
pub mod close {
    /// The session was revoked or expired.
    pub const SESSION_ENDED: u16 = 4401;
    /// Only binary y-websocket messages are accepted.
    pub const UNSUPPORTED: u16 = 1003;
    /// A message or the document is over its size limit.
    pub const TOO_LARGE: u16 = 1009;
    /// A message that is not y-websocket.
    pub const POLICY: u16 = 1008;
    /// The client did not keep up with the document's updates; reconnect to resync.
    pub const TRY_AGAIN: u16 = 1013;
    /// The server failed.
    pub const INTERNAL: u16 = 1011;
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
}

fn close_frame(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame { code, reason: reason.into() }))
}

/// Whether the socket's session is still live (backends have no session). When the client sent
/// something since the last check, that counts as activity and touches the session (lazily, as
/// a validation does), so a user working only through the socket is not logged out as idle.
async fn session_live(state: &AppState, opener: &Opener, active: bool) -> bool {
    match opener {
        Opener::Backend => true,
        Opener::Client(session) if active => state.sessions().touch_live(&session.sid).await.unwrap_or(false),
        Opener::Client(session) => {
            let now = state.sessions().now();
            state.sessions().get(&session.sid).await.is_ok_and(|record| record.is_live(now))
        }
    }
}

fn error_close(error: &SyncError) -> (u16, String) {
    match error {
        SyncError::MessageTooLarge { .. } | SyncError::DocTooLarge { .. } => {
            (close::TOO_LARGE, error.to_string())
        }
        SyncError::Detached | SyncError::Closed => {
            (close::TRY_AGAIN, "the document is reloading; reconnect to resync".to_owned())
        }
        SyncError::Store(_) | SyncError::Persistence(_) | SyncError::Corrupt(_) => {
            tracing::error!(error = %error, "sync socket closed by a storage failure");
            (close::INTERNAL, "the document store failed".to_owned())
        }
        SyncError::Malformed(_)
        | SyncError::Rejected(_)
        | SyncError::NotAMap { .. }
        | SyncError::InvalidPatch(_) => (close::POLICY, error.to_string()),
    }
}

/// Serves one socket until it ends. `slot` is held for the socket's whole life.
pub async fn serve_socket(
    mut socket: WebSocket,
    mut peer: Peer,
    opener: Opener,
    state: AppState,
    slot: SocketSlot,
) {
    let ended = slot.ended().clone();
    let _slot = slot;
    let mut greeting = peer.take_greeting().into_iter();
    if let Some(first) = greeting.next()
        && write_batch(&mut socket, first, || greeting.next()).await.is_err()
    {
        return;
    }
    let mut check = tokio::time::interval(state.sync_limits().session_check);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let max_message = state.sync_config().max_message_bytes;
    let shutdown = state.shutdown().clone();
    // Whether the client sent anything since the last session check.
    let mut active = false;
    let ending = loop {
        tokio::select! {
            () = shutdown.cancelled() => break Some((close::GOING_AWAY, "the server is shutting down".to_owned())),
            () = ended.cancelled() => break Some((close::SESSION_ENDED, "the session ended".to_owned())),
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Binary(bytes))) if bytes.len() > max_message => {
                    break Some((close::TOO_LARGE, format!("a message is at most {max_message} bytes")));
                }
                Some(Ok(Message::Binary(bytes))) => {
                    active = true;
                    // Boxed: applying a message takes a large future (about 700 bytes) that
                    // would otherwise sit inside every socket's task for the socket's whole
                    // life; one allocation per message is cheap next to the yrs apply.
                    match Box::pin(peer.receive(&bytes)).await {
                        Ok(replies) => {
                            let mut replies = replies.into_iter().map(Bytes::from);
                            if let Some(first) = replies.next()
                                && write_batch(&mut socket, first, || replies.next()).await.is_err()
                            {
                                return;
                            }
                        }
                        Err(error) => {
                            tracing::debug!(error = %error, "sync message refused");
                            break Some(error_close(&error));
                        }
                    }
                }
                Some(Ok(Message::Text(_))) => {
                    break Some((close::UNSUPPORTED, "y-websocket messages are binary".to_owned()));
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break None,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            },
            outbound = peer.next_outbound() => match outbound {
                // Whatever else is queued goes out with it, in one flush.
                Some(first) => {
                    if write_batch(&mut socket, first, || peer.try_next_outbound()).await.is_err() {
                        return;
                    }
                }
                None => break Some((close::TRY_AGAIN, "fell behind the document; reconnect to resync".to_owned())),
            },
            _ = check.tick() => {
                if !session_live(&state, &opener, std::mem::take(&mut active)).await {
                    break Some((close::SESSION_ENDED, "the session ended".to_owned()));
                }
            }
        }
    };
    if let Some((code, reason)) = ending {
        let _ = socket.send(close_frame(code, &reason)).await;
    }
    drop(peer);
}
