//! The peer listener: accepts the other nodes' connections on `--cluster-listen`, checks
//! their handshake and hands each request to a [`Handler`], answering on the same connection.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::codec::Framed;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::peers::{Answer, codec};
use super::wire::{self, Envelope, Hello, Request, Welcome};

/// How long a dialler may take to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(5);
/// Requests one connection may have in progress; further frames wait to be read.
const IN_FLIGHT_PER_CONNECTION: usize = 1024;

/// What answers the requests peers send.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Answers `request` (with `body`) from node `from`.
    async fn handle(&self, from: &str, request: Request, body: Bytes) -> Answer;
}

/// Accepts peers on `listener` until `cancel` fires.
pub async fn serve(
    listener: TcpListener,
    cluster: String,
    me: String,
    handler: Arc<dyn Handler>,
    tasks: TaskTracker,
    cancel: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                let connection = Connection {
                    cluster: cluster.clone(),
                    me: me.clone(),
                    handler: Arc::clone(&handler),
                    tasks: tasks.clone(),
                    cancel: cancel.child_token(),
                };
                tasks.spawn(connection.run(stream));
            }
            Err(error) => {
                tracing::warn!(%error, "accepting a peer failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

struct Connection {
    cluster: String,
    me: String,
    handler: Arc<dyn Handler>,
    tasks: TaskTracker,
    cancel: CancellationToken,
}

impl Connection {
    async fn run(self, stream: TcpStream) {
        let mut framed = Framed::new(stream, codec());
        let Some(from) = self.handshake(&mut framed).await else { return };
        let (mut sink, mut stream) = framed.split();
        let (responses, mut outgoing) = mpsc::channel::<Bytes>(IN_FLIGHT_PER_CONNECTION);
        let writer_cancel = self.cancel.clone();
        self.tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = writer_cancel.cancelled() => break,
                    frame = outgoing.recv() => match frame {
                        Some(frame) => if sink.send(frame).await.is_err() { break },
                        None => break,
                    },
                }
            }
        });
        let in_flight = Arc::new(Semaphore::new(IN_FLIGHT_PER_CONNECTION));
        loop {
            let frame = tokio::select! {
                () = self.cancel.cancelled() => break,
                frame = stream.next() => frame,
            };
            let Some(Ok(frame)) = frame else { break };
            let (id, request, body) = match wire::decode_frame::<Envelope>(frame.freeze()) {
                Ok((Envelope::Request { id, request }, body)) => (id, request, body),
                Ok((Envelope::Response { .. }, _)) => continue,
                Err(error) => {
                    tracing::warn!(peer = %from, %error, "closing a peer connection: a frame does not decode");
                    break;
                }
            };
            let Ok(permit) = Arc::clone(&in_flight).acquire_owned().await else { break };
            let handler = Arc::clone(&self.handler);
            let responses = responses.clone();
            let from = from.clone();
            self.tasks.spawn(async move {
                let (result, body) = handler.handle(&from, request, body).await;
                let _ = responses.send(wire::encode_frame(&Envelope::Response { id, result }, &body)).await;
                drop(permit);
            });
        }
        self.cancel.cancel();
    }

    /// Reads the dialler's hello and answers it; the dialler's node id if it was accepted.
    async fn handshake(
        &self,
        framed: &mut Framed<TcpStream, tokio_util::codec::LengthDelimitedCodec>,
    ) -> Option<String> {
        let frame = tokio::time::timeout(HELLO_TIMEOUT, framed.next()).await.ok()??.ok()?;
        let hello = match wire::decode_frame::<Hello>(frame.freeze()) {
            Ok((hello, _)) => hello,
            Err(error) => {
                let reason = format!("not a Continuum cluster handshake: {error}");
                tracing::warn!(%reason, "refused a peer connection");
                let _ = framed.send(wire::encode_frame(&Welcome::Refused { reason }, &[])).await;
                return None;
            }
        };
        if let Err(reason) = wire::check_hello(&hello, &self.cluster) {
            tracing::error!(peer = %hello.node, %reason, "refused a peer");
            let _ = framed.send(wire::encode_frame(&Welcome::Refused { reason }, &[])).await;
            return None;
        }
        let welcome = Welcome::Accepted { node: self.me.clone() };
        framed.send(wire::encode_frame(&welcome, &[])).await.ok()?;
        Some(hello.node)
    }
}
