//! [`Peers`]: this node's connections to the other nodes — one per peer, dialled when first
//! needed, each carrying many requests at once, matched to their answers by id.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::{Framed, LengthDelimitedCodec};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::metrics::ReplicationMetrics;
use super::view::Member;
use super::wire::{self, Envelope, Hello, Refusal, Reply, Request, Welcome};

/// How long dialling a peer and its handshake may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// How long one request may wait for its answer.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// Frames queued for one peer's socket; a caller waits for room when it is full.
const OUTBOX_CAPACITY: usize = 1024;

/// What a peer answered: its result and the body that came with it.
pub type Answer = (Result<Reply, Refusal>, Bytes);

/// Why a request got no answer from a peer.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The peer cannot be reached (refused, reset, timed out dialling).
    #[error("cannot reach peer {peer} at {addr}")]
    Unreachable {
        /// The peer.
        peer: String,
        /// Where it was dialled.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The peer refused the handshake (another wire version, another cluster).
    #[error("peer {peer} refused this node: {reason}")]
    Refused {
        /// The peer.
        peer: String,
        /// Its reason.
        reason: String,
    },
    /// No answer within [`CALL_TIMEOUT`], or the connection closed first.
    #[error("peer {peer} did not answer")]
    NoAnswer {
        /// The peer.
        peer: String,
    },
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Answer>>>>;

/// One peer's connection, dialled under the slot's lock so that callers do not race to dial.
type Slot = Arc<tokio::sync::Mutex<Option<Arc<Connection>>>>;

struct Connection {
    addr: SocketAddr,
    outbox: mpsc::Sender<Bytes>,
    pending: Pending,
    next_id: AtomicU64,
    closed: CancellationToken,
}

/// The connections to every peer. Cheap to share behind an `Arc`.
pub struct Peers {
    me: String,
    cluster: String,
    slots: Mutex<HashMap<String, Slot>>,
    tasks: TaskTracker,
    cancel: CancellationToken,
    metrics: Arc<ReplicationMetrics>,
    cut: Option<Arc<super::fault::Cut>>,
}

impl Peers {
    /// Connections from node `me` of `cluster`; their tasks are tracked by `tasks` and end with
    /// `cancel`.
    pub fn new(
        me: String,
        cluster: String,
        tasks: TaskTracker,
        cancel: CancellationToken,
        metrics: Arc<ReplicationMetrics>,
    ) -> Self {
        Self { me, cluster, slots: Mutex::default(), tasks, cancel, metrics, cut: None }
    }

    /// These connections with `cut` applied: calls to a cut peer fail as unanswered.
    pub fn with_cut(mut self, cut: Option<Arc<super::fault::Cut>>) -> Self {
        self.cut = cut;
        self
    }

    /// Sends `request` (with `body`) to `peer` and waits for its answer.
    pub async fn call(&self, peer: &Member, request: Request, body: &[u8]) -> Result<Answer, CallError> {
        if self.cut.as_ref().is_some_and(|cut| cut.blocks(peer.peer_addr)) {
            return Err(CallError::NoAnswer { peer: peer.id.clone() });
        }
        let connection = self.connection(peer).await?;
        let id = connection.next_id.fetch_add(1, Ordering::Relaxed);
        let (answer, answered) = oneshot::channel();
        lock(&connection.pending).insert(id, answer);
        let frame = wire::encode_frame(&Envelope::Request { id, request }, body);
        self.metrics.bytes_sent.inc_by(frame.len() as u64);
        let no_answer = || CallError::NoAnswer { peer: peer.id.clone() };
        if connection.outbox.send(frame).await.is_err() {
            lock(&connection.pending).remove(&id);
            return Err(no_answer());
        }
        match tokio::time::timeout(CALL_TIMEOUT, answered).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) | Err(_) => {
                lock(&connection.pending).remove(&id);
                Err(no_answer())
            }
        }
    }

    /// The open connection to `peer`, dialled if there is none (or it closed, or the peer moved).
    async fn connection(&self, peer: &Member) -> Result<Arc<Connection>, CallError> {
        let slot = Arc::clone(lock(&self.slots).entry(peer.id.clone()).or_default());
        let mut slot = slot.lock().await;
        if let Some(open) = slot.as_ref()
            && open.addr == peer.peer_addr
            && !open.closed.is_cancelled()
        {
            return Ok(Arc::clone(open));
        }
        let connection = self.dial(peer).await?;
        *slot = Some(Arc::clone(&connection));
        Ok(connection)
    }

    async fn dial(&self, peer: &Member) -> Result<Arc<Connection>, CallError> {
        let unreachable =
            |source| CallError::Unreachable { peer: peer.id.clone(), addr: peer.peer_addr, source };
        let timed_out = || unreachable(std::io::Error::new(std::io::ErrorKind::TimedOut, "dial timed out"));
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(peer.peer_addr))
            .await
            .map_err(|_| timed_out())?
            .map_err(unreachable)?;
        stream.set_nodelay(true).map_err(unreachable)?;
        let mut framed = Framed::new(stream, codec());
        let hello = Hello {
            magic: wire::MAGIC.into(),
            version: wire::WIRE_VERSION,
            cluster: self.cluster.clone(),
            node: self.me.clone(),
        };
        framed.send(wire::encode_frame(&hello, &[])).await.map_err(unreachable)?;
        let welcome = tokio::time::timeout(CONNECT_TIMEOUT, framed.next()).await.map_err(|_| timed_out())?;
        let closed =
            || unreachable(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed in the handshake"));
        let frame = welcome.ok_or_else(closed)?.map_err(unreachable)?;
        match wire::decode_frame::<Welcome>(frame.freeze()) {
            Ok((Welcome::Accepted { .. }, _)) => {}
            Ok((Welcome::Refused { reason }, _)) => {
                tracing::error!(peer = %peer.id, %reason, "a peer refused this node");
                return Err(CallError::Refused { peer: peer.id.clone(), reason });
            }
            Err(error) => {
                let reason = format!("its handshake does not decode: {error}");
                return Err(CallError::Refused { peer: peer.id.clone(), reason });
            }
        }
        Ok(self.spawn_connection(peer, framed))
    }

    fn spawn_connection(
        &self,
        peer: &Member,
        framed: Framed<TcpStream, LengthDelimitedCodec>,
    ) -> Arc<Connection> {
        let (outbox, mut outgoing) = mpsc::channel::<Bytes>(OUTBOX_CAPACITY);
        let closed = self.cancel.child_token();
        let connection = Arc::new(Connection {
            addr: peer.peer_addr,
            outbox,
            pending: Pending::default(),
            next_id: AtomicU64::new(1),
            closed: closed.clone(),
        });
        let (mut sink, mut stream) = framed.split();
        let writer_closed = closed.clone();
        self.tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = writer_closed.cancelled() => break,
                    frame = outgoing.recv() => match frame {
                        Some(frame) => if sink.send(frame).await.is_err() { break },
                        None => break,
                    },
                }
            }
            writer_closed.cancel();
        });
        let pending = Arc::clone(&connection.pending);
        let peer_id = peer.id.clone();
        self.tasks.spawn(async move {
            loop {
                let frame = tokio::select! {
                    () = closed.cancelled() => break,
                    frame = stream.next() => frame,
                };
                let Some(Ok(frame)) = frame else { break };
                match wire::decode_frame::<Envelope>(frame.freeze()) {
                    Ok((Envelope::Response { id, result }, body)) => {
                        if let Some(answer) = lock(&pending).remove(&id) {
                            let _ = answer.send((result, body));
                        }
                    }
                    Ok((Envelope::Request { .. }, _)) => {
                        tracing::warn!(peer = %peer_id, "a peer sent a request on a dialled connection");
                    }
                    Err(error) => {
                        tracing::warn!(peer = %peer_id, %error, "closing a peer connection: a frame does not decode");
                        break;
                    }
                }
            }
            closed.cancel();
            // Dropping the senders tells every waiting caller there will be no answer.
            lock(&pending).clear();
        });
        connection
    }
}

/// The frame codec both sides use.
pub fn codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder().max_frame_length(wire::MAX_FRAME_BYTES).new_codec()
}

/// A mutex that is never held across `.await`.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
