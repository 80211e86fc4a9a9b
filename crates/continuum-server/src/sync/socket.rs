//! [`serve_socket`]: one sync WebSocket — y-websocket messages between the socket and a
//! [`Peer`], until either side closes, the session ends, the server shuts down, or the peer
//! falls behind.
//!
//! The loop's future is held for the socket's whole life, so it waits on as little as it can:
//! the socket, the peer's queue and one token (the session's end, a child of the server's
//! shutdown). Whether the session is still live is checked node-wide, once per session, by the
//! [`SessionChecker`](crate::sockets::SessionChecker).

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use continuum_sync::{Peer, SyncError};

use super::outbound::write_batch;
use crate::sockets::SocketSlot;
use crate::state::AppState;

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
        | SyncError::ReadOnly
        | SyncError::Rejected(_)
        | SyncError::NotAMap { .. }
        | SyncError::InvalidPatch(_) => (close::POLICY, error.to_string()),
    }
}

/// Serves one socket until it ends. `slot` is held for the socket's whole life; a message
/// from the client marks its session active for the next session check.
///
/// Not an `async fn`: an `async fn` moves its arguments from the future's captures into
/// locals, and the future keeps room for both (rust-lang/rust#62958), so every argument (the
/// WebSocket alone is 368 bytes) would be held twice for the socket's whole life. The `async
/// move` block below uses its captures in place. For the same reason every await taken once or
/// rarely (the greeting, answering a client's message) is boxed: the future keeps room for its
/// largest await for the socket's whole life, and a short-lived allocation is cheap next to
/// what those awaits do. What stays inline is the wait itself and the write of relayed
/// messages, the hot path.
#[allow(clippy::manual_async_fn, reason = "an async fn would hold its arguments twice")]
pub fn serve_socket(
    mut socket: WebSocket,
    mut peer: Peer,
    state: AppState,
    slot: SocketSlot,
) -> impl Future<Output = ()> + Send + 'static {
    async move {
        if Box::pin(greet(&mut socket, &mut peer)).await.is_err() {
            return;
        }
        let max_message = state.sync_config().max_message_bytes;
        let ending = loop {
            tokio::select! {
                // One token for both: it is a child of the server's shutdown token.
                () = slot.ended().cancelled() => break Some(if state.shutdown().is_cancelled() {
                    (close::GOING_AWAY, "the server is shutting down".to_owned())
                } else {
                    (close::SESSION_ENDED, "the session ended".to_owned())
                }),
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Binary(bytes))) if bytes.len() > max_message => {
                        break Some((close::TOO_LARGE, format!("a message is at most {max_message} bytes")));
                    }
                    Some(Ok(Message::Binary(bytes))) => {
                        slot.mark_active();
                        match Box::pin(answer(&mut socket, &mut peer, bytes)).await {
                            Ok(()) => {}
                            Err(AnswerError::Socket) => return,
                            Err(AnswerError::Refused(error)) => {
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
            }
        };
        if let Some((code, reason)) = ending {
            let _ = socket.send(close_frame(code, &reason)).await;
        }
        drop(peer);
    }
}

/// Writes the peer's greeting (sync step 1 and the document's awareness states), several
/// messages per flush.
async fn greet(socket: &mut WebSocket, peer: &mut Peer) -> Result<(), axum::Error> {
    let mut greeting = peer.take_greeting().into_iter();
    if let Some(first) = greeting.next() {
        write_batch(socket, first, || greeting.next()).await?;
    }
    Ok(())
}

/// Why answering a client's message ends the socket.
enum AnswerError {
    /// Writing to the socket failed: it is gone.
    Socket,
    /// The peer refused the message.
    Refused(SyncError),
}

/// Applies one message from the client and writes the replies it calls for.
async fn answer(socket: &mut WebSocket, peer: &mut Peer, message: Bytes) -> Result<(), AnswerError> {
    let replies = peer.receive(&message).await.map_err(AnswerError::Refused)?;
    drop(message);
    let mut replies = replies.into_iter().map(Bytes::from);
    if let Some(first) = replies.next() {
        write_batch(socket, first, || replies.next()).await.map_err(|_| AnswerError::Socket)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the future `f` returns, without calling it.
    fn output_size<A, B, C, D, F>(_: impl FnOnce(A, B, C, D) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// Every open socket holds this future for its whole life: a byte here is a byte per socket.
    /// The bound is the size measured in a test build (808 bytes) plus a little; lower it when
    /// the loop gets smaller.
    #[test]
    fn the_socket_loop_future_stays_small() {
        let size = output_size(serve_socket);
        println!("serve_socket future: {size} bytes");
        assert!(size <= 848, "the socket loop's future grew to {size} bytes");
    }
}
