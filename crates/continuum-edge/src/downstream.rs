//! [`Downstream`]: the task that keeps one document's y-websocket to the origin while the
//! document has devices at this edge — the origin's changes (made there, or replayed from other
//! edges) applied to the edge's copy and sent to its devices.
//!
//! # Protocol, and why no update goes up this way
//! On each connection the task sends sync step 1 (the edge copy's state vector) and applies the
//! origin's step 2 (what the edge missed, however long it was away), then every update the
//! origin relays. It never answers the origin's step 1 and never sends an update: what the
//! edge's devices write reaches the origin only through the durable queue and replay, which
//! apply each update exactly once (the origin's `applied` count per edge) and refuse ended
//! sessions' updates. The origin's route only reads anyway (an update on it is refused). So
//! nothing is counted twice at the origin, and what the origin relays back of the edge's own
//! replayed updates is already in the edge's copy: applying it changes nothing, and nothing is
//! stored or sent again. What does change the copy is applied as an update *from upstream*
//! ([`continuum_sync::LiveDoc::apply_upstream`]): kept in the edge's local copy, never queued.
//!
//! # Presence across tiers
//! Awareness does travel both ways, through a *relay* peer of the edge's copy
//! ([`PeerOptions::relay`]) attached for the connection: the awareness the edge's copy sends it
//! (its devices' states, flushed each tick) goes up, and the origin's awareness messages (its
//! own devices', and other edges') are applied as the relay's states, so the edge's devices see
//! them. The origin's end of the socket is a relay peer too. When the connection breaks, each
//! side drops the states the other brought (a device there is gone from here as far as anyone
//! can tell); the next connection's greetings bring them back.
//!
//! # Liveness
//! A ping goes out every [`PING_EVERY`]; a socket that carried nothing (not even a pong) for
//! [`SILENCE`] is counted broken, as is one the origin closed. Broken or refused, the task
//! tries again after a [`Backoff`] (100 ms doubling to 2 s, jittered), and the next step 1/2
//! catches up. Once the document has had no device for the linger, the task lets go (asking its
//! [`Registration`], which decides under the lock that new devices take, so none is left
//! without a downstream).

use std::sync::Arc;
use std::time::{Duration, Instant};

use continuum_sync::protocol::{self, Inbound};
use continuum_sync::{LiveDoc, Peer, PeerOptions, SyncError};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use crate::metrics::EdgeMetrics;
use crate::origin::{OriginClient, OriginSocket};
use crate::pacing::{Backoff, Linger};

/// How often a connected downstream pings the origin (and looks at its document's devices).
pub const PING_EVERY: Duration = Duration::from_secs(1);
/// How long a socket may carry nothing before it counts as broken (a cut without a FIN).
pub const SILENCE: Duration = Duration::from_secs(3);
/// How often a disconnected downstream looks at its document's devices while it waits.
const IDLE_CHECK: Duration = Duration::from_millis(250);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// What a downstream asks of the set that started it.
pub trait Registration: Send + Sync {
    /// The document has had no device for the linger: whether the task may end. The set
    /// answers under its lock, checking the document's devices again, and forgets the task if
    /// so; a device arriving later starts a new one.
    fn release_if_idle(&self, doc: &LiveDoc) -> bool;
}

/// One document's downstream.
pub struct Downstream {
    /// The document, held (so kept in memory) while the task runs.
    pub doc: Arc<LiveDoc>,
    /// The origin.
    pub origin: OriginClient,
    /// Its counters.
    pub metrics: Arc<EdgeMetrics>,
    /// How long the document may have no device before the task lets go.
    pub linger: Duration,
    /// The set that started it; dropped when the task ends.
    pub registration: Box<dyn Registration>,
}

/// Why a connection ended.
enum Ended {
    /// The task is done: stopped, let go, or its document failed.
    Done,
    /// The connection broke; try again.
    Broke(String),
}

impl Downstream {
    /// Keeps the downstream until `stop` fires, the document fails, or it has had no device
    /// for the linger.
    pub async fn run(self, stop: CancellationToken) {
        let mut backoff = Backoff::new(FIRST_BACKOFF, MAX_BACKOFF);
        let mut linger = Linger::new(self.linger);
        loop {
            let connected = tokio::select! {
                () = stop.cancelled() => return,
                connected = self.origin.downstream(self.doc.key()) => connected,
            };
            let broke = match connected {
                Ok(socket) => {
                    self.metrics.downstream_connects.inc();
                    self.metrics.downstream_connected.inc();
                    let ended = self.serve(socket, &stop, &mut linger, &mut backoff).await;
                    self.metrics.downstream_connected.dec();
                    match ended {
                        Ended::Done => return,
                        Ended::Broke(reason) => reason,
                    }
                }
                Err(error) => error.to_string(),
            };
            self.metrics.downstream_errors.inc();
            tracing::debug!(doc = %self.doc.key(), reason = %broke, "the downstream from the origin broke; retrying");
            if self.wait(backoff.next(fastrand::f64()), &stop, &mut linger).await {
                return;
            }
        }
    }

    /// Waits `wait` before the next attempt; `true` if the task is done meanwhile.
    async fn wait(&self, wait: Duration, stop: &CancellationToken, linger: &mut Linger) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let slice = deadline.saturating_duration_since(tokio::time::Instant::now()).min(IDLE_CHECK);
            tokio::select! {
                () = stop.cancelled() => return true,
                () = tokio::time::sleep(slice) => {}
            }
            if self.let_go(linger) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
        }
    }

    /// Whether the document has had no device for the linger and the set lets the task go.
    fn let_go(&self, linger: &mut Linger) -> bool {
        linger.due(self.doc.device_count(), Instant::now()) && self.registration.release_if_idle(&self.doc)
    }

    /// One connection: step 1, then whatever the origin sends, until it breaks or the task
    /// is done.
    async fn serve(
        &self,
        mut socket: OriginSocket,
        stop: &CancellationToken,
        linger: &mut Linger,
        backoff: &mut Backoff,
    ) -> Ended {
        let step1 = protocol::sync_step1(self.doc.state_vector());
        if let Err(error) = socket.send(Message::Binary(step1.into())).await {
            return Ended::Broke(error.to_string());
        }
        let mut relay =
            self.doc.connect(PeerOptions { read_only: true, relay: true, ..PeerOptions::default() });
        for message in relay.take_greeting() {
            // The greeting's step 1 is the edge's own: only its awareness states go up.
            if protocol::is_awareness(&message)
                && let Err(error) = socket.send(Message::Binary(message)).await
            {
                return Ended::Broke(error.to_string());
            }
        }
        let mut heard = Instant::now();
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => {
                    let _ = socket.close(None).await;
                    return Ended::Done;
                }
                _ = ping.tick() => {
                    if heard.elapsed() > SILENCE {
                        return Ended::Broke(format!("nothing heard for {SILENCE:?}"));
                    }
                    if self.let_go(linger) {
                        let _ = tokio::time::timeout(PING_EVERY, socket.close(None)).await;
                        return Ended::Done;
                    }
                    let sent = tokio::time::timeout(PING_EVERY, socket.send(Message::Ping(Default::default()))).await;
                    if !matches!(sent, Ok(Ok(()))) {
                        return Ended::Broke("the ping could not be sent".to_owned());
                    }
                }
                outbound = relay.next_outbound() => match outbound {
                    // The devices' presence goes up; their updates go by the queue.
                    Some(message) if protocol::is_awareness(&message) => {
                        let sent = tokio::time::timeout(PING_EVERY, socket.send(Message::Binary(message))).await;
                        if !matches!(sent, Ok(Ok(()))) {
                            return Ended::Broke("an awareness message could not be sent".to_owned());
                        }
                    }
                    Some(_) => {}
                    None => return Ended::Broke("the edge's copy let go of the relay".to_owned()),
                },
                incoming = socket.next() => match incoming {
                    Some(Ok(Message::Binary(bytes))) => {
                        heard = Instant::now();
                        match self.apply(&bytes, &mut relay).await {
                            // Caught up: the next break starts its backoff from the first wait.
                            Ok(true) => backoff.reset(),
                            Ok(false) => {}
                            Err(ended) => return ended,
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        return Ended::Broke(format!("the origin closed the socket: {frame:?}"));
                    }
                    Some(Ok(_)) => heard = Instant::now(),
                    Some(Err(error)) => return Ended::Broke(error.to_string()),
                    None => return Ended::Broke("the socket ended".to_owned()),
                },
            }
        }
    }

    /// Applies one message from the origin (its awareness through `relay`); `Ok(true)` if it
    /// carried the sync step 2.
    async fn apply(&self, message: &[u8], relay: &mut Peer) -> Result<bool, Ended> {
        let inbound =
            protocol::decode(message).map_err(|error| Ended::Broke(format!("malformed: {error}")))?;
        let mut synced = false;
        for message in inbound {
            let update = match message {
                Inbound::SyncStep2(update) => {
                    synced = true;
                    update
                }
                Inbound::Update(update) => update,
                Inbound::Awareness(update) => {
                    // Applied as the relay's states (bounded by MAX_RELAYED_CLIENTS); the
                    // document lets go of a relay only when it is too slow, seen on its outbound.
                    let _ = relay.receive(&protocol::awareness(update)).await;
                    continue;
                }
                // Its step 1 is not answered (the queue carries the edge's updates up).
                _ => continue,
            };
            match self.doc.apply_upstream(&update).await {
                Ok(true) => {
                    self.metrics.downstream_updates.inc();
                }
                Ok(false) => {}
                Err(error @ (SyncError::Persistence(_) | SyncError::Closed)) => {
                    tracing::warn!(doc = %self.doc.key(), %error, "the document failed; its downstream ends");
                    return Err(Ended::Done);
                }
                Err(error) => return Err(Ended::Broke(format!("the origin's update was refused: {error}"))),
            }
        }
        Ok(synced)
    }
}
