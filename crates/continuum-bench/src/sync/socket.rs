//! [`SyncSocket`]: one y-websocket connection to `/v1/sync/{scope}/{name}`, and
//! [`SocketError`], how one can fail.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use http::StatusCode;
use http::header::AUTHORIZATION;
use hyper::body::Bytes;
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};

use super::content::{Replica, ReplicaError};
use super::target::{DocTarget, SocketAuth};
use super::wire::{self, Inbound, WireError};
use continuum_client::{Endpoint, Problem};

/// Each socket's read buffer. tungstenite allocates it up front (128 KiB by default), and the
/// bench holds thousands of sockets whose messages are tens of bytes.
const READ_BUFFER: usize = 4 * 1024;

/// How long a polite close waits for the server's close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// Why a sync socket could not be opened or used.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    /// The TCP connection could not be opened.
    #[error("cannot connect to {server}")]
    Connect {
        /// The server.
        server: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server answered the upgrade with an HTTP error instead of switching protocols.
    #[error("the server refused the sync socket with {status}{}", problem.as_ref().map(|p| format!(": {p}")).unwrap_or_default())]
    Refused {
        /// The status code.
        status: StatusCode,
        /// The problem details, when the body had them.
        problem: Option<Problem>,
    },
    /// The WebSocket handshake failed otherwise.
    #[error("the WebSocket handshake with {server} failed")]
    Handshake {
        /// The server.
        server: String,
        /// The cause.
        #[source]
        source: tungstenite::Error,
    },
    /// Sending or receiving failed after the handshake.
    #[error("the sync socket broke")]
    Transport(#[source] tungstenite::Error),
    /// The server closed the socket.
    #[error("the server closed the sync socket ({code}{})", if reason.is_empty() { String::new() } else { format!(": {reason}") })]
    Closed {
        /// The close code (1006 when the connection ended without a close frame).
        code: u16,
        /// The reason the server gave.
        reason: String,
    },
    /// The server sent a frame that is not y-websocket.
    #[error("the server sent a frame that is not y-websocket")]
    Wire(#[from] WireError),
    /// The server sent an update this client cannot apply.
    #[error("the server sent an update that does not apply")]
    Update(#[from] ReplicaError),
    /// No answer in time.
    #[error("no answer from the sync socket within {0:?}")]
    Timeout(Duration),
}

impl SocketError {
    /// The key this error is counted under in reports: a status code, a close code, or a word.
    pub fn kind(&self) -> String {
        match self {
            Self::Connect { .. } => "connect".to_owned(),
            Self::Refused { status, .. } => status.as_u16().to_string(),
            Self::Handshake { .. } => "handshake".to_owned(),
            Self::Transport(_) => "io".to_owned(),
            Self::Closed { code, .. } => format!("close-{code}"),
            Self::Wire(_) | Self::Update(_) => "protocol".to_owned(),
            Self::Timeout(_) => "timeout".to_owned(),
        }
    }
}

/// What the sync handshake received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Synced {
    /// The payload of the server's sync step 2: the update this client lacked.
    pub step2_bytes: usize,
}

/// One open sync socket.
#[derive(Debug)]
pub struct SyncSocket {
    ws: WebSocketStream<TcpStream>,
}

impl SyncSocket {
    /// Connects (with `TCP_NODELAY`: every message is one small write) and upgrades to a
    /// WebSocket on `target`'s sync path, presenting `auth`; `acks` asks for durability acks.
    pub async fn open(
        endpoint: &Endpoint,
        target: &DocTarget,
        auth: &SocketAuth,
        acks: bool,
    ) -> Result<Self, SocketError> {
        let server = endpoint.to_string();
        let connect = |source| SocketError::Connect { server: server.clone(), source };
        let stream = TcpStream::connect((endpoint.host(), endpoint.port())).await.map_err(connect)?;
        stream.set_nodelay(true).map_err(connect)?;
        let url =
            format!("ws://{}{}", endpoint.host_header().to_str().unwrap_or_default(), target.path(acks));
        let mut request = url
            .into_client_request()
            .map_err(|source| SocketError::Handshake { server: server.clone(), source })?;
        request.headers_mut().insert(AUTHORIZATION, auth.header().clone());
        let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
        match tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await {
            Ok((ws, _)) => Ok(Self { ws }),
            Err(tungstenite::Error::Http(response)) => {
                let problem = response.body().as_deref().and_then(|body| serde_json::from_slice(body).ok());
                Err(SocketError::Refused { status: response.status(), problem })
            }
            Err(source) => Err(SocketError::Handshake { server, source }),
        }
    }

    /// Sends one binary frame.
    pub async fn send(&mut self, frame: Vec<u8>) -> Result<(), SocketError> {
        self.ws.send(Message::Binary(frame.into())).await.map_err(SocketError::Transport)
    }

    /// The next binary frame. Pings are answered by the transport; a close is an error that
    /// says why.
    pub async fn next_frame(&mut self) -> Result<Bytes, SocketError> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Binary(bytes))) => return Ok(bytes),
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map_or((1005, String::new()), |frame| (frame.code.into(), frame.reason.to_string()));
                    return Err(SocketError::Closed { code, reason });
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(SocketError::Transport(error)),
                None => return Err(SocketError::Closed { code: 1006, reason: String::new() }),
            }
        }
    }

    /// Sends sync step 1 with `replica`'s state vector and applies what arrives until the
    /// server's sync step 2, which it returns the size of. The server's own step 1 is not
    /// answered: the bench's replicas never hold content the server lacks.
    pub async fn sync(&mut self, replica: &mut Replica, within: Duration) -> Result<Synced, SocketError> {
        self.send(wire::sync_step1(&replica.state_vector())).await?;
        let handshake = async {
            loop {
                let frame = self.next_frame().await?;
                for message in wire::messages(&frame) {
                    match message? {
                        Inbound::SyncStep2(update) => {
                            replica.apply(update)?;
                            return Ok(Synced { step2_bytes: update.len() });
                        }
                        Inbound::Update(update) => replica.apply(update)?,
                        Inbound::SyncStep1(_) | Inbound::Ack(_) | Inbound::Other(_) => {}
                    }
                }
            }
        };
        tokio::time::timeout(within, handshake).await.map_err(|_| SocketError::Timeout(within))?
    }

    /// Waits until the server calls at least `count` of this socket's updates durable, ignoring
    /// everything else it sends (other sockets' updates).
    pub async fn wait_durable(&mut self, count: u64, within: Duration) -> Result<(), SocketError> {
        let wait = async {
            loop {
                let frame = self.next_frame().await?;
                for message in wire::messages(&frame) {
                    if let Inbound::Ack(durable) = message?
                        && durable >= count
                    {
                        return Ok(());
                    }
                }
            }
        };
        tokio::time::timeout(within, wait).await.map_err(|_| SocketError::Timeout(within))?
    }

    /// Closes politely: sends a close frame and waits briefly for the server's. Errors are
    /// ignored; the socket is gone either way.
    pub async fn close(mut self) {
        let closing = async {
            if self.ws.close(None).await.is_ok() {
                while let Some(Ok(_)) = self.ws.next().await {}
            }
        };
        let _ = tokio::time::timeout(CLOSE_WAIT, closing).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_counted_by_kind_and_explain_themselves() {
        let problem = Problem {
            detail: Some("this session already has 16 sync sockets open".into()),
            ..Problem::default()
        };
        let refused = SocketError::Refused { status: StatusCode::TOO_MANY_REQUESTS, problem: Some(problem) };
        assert_eq!(refused.kind(), "429");
        assert_eq!(
            refused.to_string(),
            "the server refused the sync socket with 429 Too Many Requests: this session already has 16 sync sockets open"
        );
        let closed = SocketError::Closed { code: 1013, reason: "fell behind".into() };
        assert_eq!(
            (closed.kind(), closed.to_string()),
            ("close-1013".to_owned(), "the server closed the sync socket (1013: fell behind)".to_owned())
        );
        assert_eq!(SocketError::Timeout(Duration::from_secs(1)).kind(), "timeout");
        assert_eq!(SocketError::from(WireError::Truncated).kind(), "protocol");
    }
}
