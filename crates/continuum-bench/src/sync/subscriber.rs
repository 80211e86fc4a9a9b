//! [`Subscriber`]: a reader socket that behaves like the stock y-websocket client when the
//! server closes it: it reconnects, sends its state vector (sync step 1) and applies the sync
//! step 2, re-announces its awareness, and goes on reading until it has the final update.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::content::{Replica, SEQ_KEY};
use super::socket::{SocketError, SyncSocket};
use super::target::{DocTarget, SocketAuth};
use super::wire::{self, Inbound};
use continuum_client::Endpoint;

/// The first pause before reconnecting; it doubles after each failed attempt, up to
/// [`MAX_BACKOFF`] (y-websocket starts at 100 ms and caps at 2.5 s; the bench is quicker).
const FIRST_BACKOFF: Duration = Duration::from_millis(10);

/// The longest pause between two reconnect attempts.
const MAX_BACKOFF: Duration = Duration::from_millis(500);

/// How long one reconnect (open and sync) may take.
const RECONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a subscriber connects and who it is.
#[derive(Clone, Debug)]
pub struct SubscriberTarget {
    /// The server.
    pub endpoint: Endpoint,
    /// The document.
    pub target: Arc<DocTarget>,
    /// The session it opens as.
    pub auth: SocketAuth,
    /// Its awareness client id.
    pub client_id: u64,
}

impl SubscriberTarget {
    /// Opens a socket, syncs `replica` by state vector and announces an awareness state with
    /// `clock`, as a y-websocket client does on every (re)connect.
    pub async fn connect(
        &self,
        replica: &mut Replica,
        clock: u32,
        within: Duration,
    ) -> Result<SyncSocket, SocketError> {
        let mut socket = SyncSocket::open(&self.endpoint, &self.target, &self.auth, false).await?;
        socket.sync(replica, within).await?;
        let state = format!(r#"{{"user":"bench-{}","route":"/burst"}}"#, self.client_id);
        socket.send(wire::awareness(self.client_id, clock, &state)).await?;
        Ok(socket)
    }
}

/// How one subscriber's burst went.
#[derive(Debug, Default)]
pub struct SubscriberOutcome {
    /// From the burst's start to having the final update; `None` if it never did.
    pub done_after: Option<Duration>,
    /// Times the server closed the socket and the subscriber reconnected.
    pub reconnects: u64,
    /// The server's closes and any failures, by [`SocketError::kind`].
    pub closes: BTreeMap<String, u64>,
    /// The socket still open at the end (held for the mass leave).
    pub socket: Option<SyncSocket>,
}

/// A reader of one document during a burst.
#[derive(Debug)]
pub struct Subscriber {
    /// Where it connects.
    pub target: SubscriberTarget,
    /// Its copy of the document.
    pub replica: Replica,
    /// The `seq` of the writer's last update.
    pub last_seq: u64,
    /// When the burst started.
    pub start: Instant,
    /// When it gives up.
    pub deadline: Instant,
}

impl Subscriber {
    /// Reads (reconnecting whenever the server closes the socket) until the replica holds the
    /// final update or the deadline passes.
    pub async fn run(mut self, socket: SyncSocket) -> SubscriberOutcome {
        let mut outcome = SubscriberOutcome::default();
        let mut socket = Some(socket);
        let mut clock = 1;
        while Instant::now() < self.deadline {
            let Some(open) = socket.as_mut() else {
                clock += 1;
                socket = self.reconnect(clock, &mut outcome).await;
                if self.has_final() {
                    outcome.done_after = Some(self.start.elapsed());
                    break;
                }
                continue;
            };
            let frame = match tokio::time::timeout_at(self.deadline, open.next_frame()).await {
                Err(_) => break,
                Ok(Ok(frame)) => frame,
                Ok(Err(error)) => {
                    *outcome.closes.entry(error.kind()).or_default() += 1;
                    socket = None;
                    continue;
                }
            };
            let applied = wire::messages(&frame).try_for_each(|message| -> Result<(), SocketError> {
                match message? {
                    Inbound::Update(update) | Inbound::SyncStep2(update) => Ok(self.replica.apply(update)?),
                    _ => Ok(()),
                }
            });
            if let Err(error) = applied {
                *outcome.closes.entry(error.kind()).or_default() += 1;
                break;
            }
            if self.has_final() {
                outcome.done_after = Some(self.start.elapsed());
                break;
            }
        }
        outcome.socket = socket;
        outcome
    }

    fn has_final(&self) -> bool {
        self.replica.number(SEQ_KEY).is_some_and(|seq| seq as u64 >= self.last_seq)
    }

    /// Reconnects with backoff until it works or the deadline passes.
    async fn reconnect(&mut self, clock: u32, outcome: &mut SubscriberOutcome) -> Option<SyncSocket> {
        let mut backoff = FIRST_BACKOFF;
        while Instant::now() + backoff < self.deadline {
            tokio::time::sleep(backoff).await;
            let within = RECONNECT_TIMEOUT.min(self.deadline.saturating_duration_since(Instant::now()));
            match self.target.connect(&mut self.replica, clock, within).await {
                Ok(socket) => {
                    outcome.reconnects += 1;
                    return Some(socket);
                }
                Err(error) => {
                    tracing::debug!(error = %error, "a burst subscriber failed to reconnect");
                    *outcome.closes.entry(format!("reconnect-{}", error.kind())).or_default() += 1;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        None
    }
}
