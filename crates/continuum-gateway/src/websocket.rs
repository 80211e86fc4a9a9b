//! Relaying an upgraded WebSocket between a client and a node, message by message, so that when
//! the node goes away the client gets a close frame it reconnects on instead of a torn stream.
//!
//! Each side is a tungstenite stream (the server role toward the client, the client role toward
//! the node); pings are answered by each hop itself and not relayed. Close codes:
//! [`CLOSE_NODE_LOST`] (1012, "service restart") when the node's side breaks without a close —
//! the browser SDK and y-websocket reconnect on it, and the reconnect is routed to the key's
//! next owner — a node's own close frame is relayed as it is (4401 signed out, 1013 fell
//! behind…), and [`CLOSE_GOING_AWAY`] (1001) when the gateway shuts down.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_util::sync::CancellationToken;

/// The node behind the socket went away: reconnect (lands on the next owner).
pub const CLOSE_NODE_LOST: u16 = 1012;
/// The gateway is shutting down.
pub const CLOSE_GOING_AWAY: u16 = 1001;

/// How long a side may take to answer a close before the socket is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How a relayed socket ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SocketEnd {
    /// One side closed (or dropped) it; the other was told.
    Closed,
    /// The node's side broke without a close frame; the client got [`CLOSE_NODE_LOST`].
    NodeLost,
    /// The gateway shut down.
    Shutdown,
}

type Side = WebSocketStream<TokioIo<Upgraded>>;

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame { code: CloseCode::from(code), reason: reason.into() }))
}

/// Relays messages between `client` and `node` until either ends or `closing` fires.
pub async fn relay(
    client: Upgraded,
    node: Upgraded,
    max_message_bytes: usize,
    closing: CancellationToken,
) -> SocketEnd {
    let config = WebSocketConfig::default()
        .max_message_size(Some(max_message_bytes))
        .max_frame_size(Some(max_message_bytes));
    let client: Side =
        WebSocketStream::from_raw_socket(TokioIo::new(client), Role::Server, Some(config)).await;
    let node: Side = WebSocketStream::from_raw_socket(TokioIo::new(node), Role::Client, Some(config)).await;
    let (mut to_client, mut from_client) = client.split();
    let (mut to_node, mut from_node) = node.split();
    let end = loop {
        tokio::select! {
            message = from_client.next() => match message {
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(message @ Message::Close(_))) => {
                    let _ = to_node.send(message).await;
                    break SocketEnd::Closed;
                }
                Some(Ok(message)) => {
                    if to_node.send(message).await.is_err() {
                        let _ = to_client.send(close(CLOSE_NODE_LOST, "the node went away; reconnect")).await;
                        break SocketEnd::NodeLost;
                    }
                }
                Some(Err(_)) | None => {
                    let _ = to_node.send(close(CLOSE_GOING_AWAY, "the client went away")).await;
                    break SocketEnd::Closed;
                }
            },
            message = from_node.next() => match message {
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(message @ Message::Close(_))) => {
                    let _ = to_client.send(message).await;
                    break SocketEnd::Closed;
                }
                Some(Ok(message)) => {
                    if to_client.send(message).await.is_err() {
                        let _ = to_node.send(close(CLOSE_GOING_AWAY, "the client went away")).await;
                        break SocketEnd::Closed;
                    }
                }
                Some(Err(_)) | None => {
                    let _ = to_client.send(close(CLOSE_NODE_LOST, "the node went away; reconnect")).await;
                    break SocketEnd::NodeLost;
                }
            },
            () = closing.cancelled() => {
                let _ = to_client.send(close(CLOSE_GOING_AWAY, "the gateway is shutting down")).await;
                let _ = to_node.send(close(CLOSE_GOING_AWAY, "the gateway is shutting down")).await;
                break SocketEnd::Shutdown;
            }
        }
    };
    // Let both sides see the close handshake end (their answering close frames are read and
    // dropped), within a bound, then drop the connections.
    let drain = async {
        let client = async { while let Some(Ok(_)) = from_client.next().await {} };
        let node = async { while let Some(Ok(_)) = from_node.next().await {} };
        tokio::join!(client, node);
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, drain).await;
    end
}
