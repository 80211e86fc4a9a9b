//! [`SessionChecker`]: the node-wide task that closes the sync sockets of sessions that expired
//! (idle or absolute) or whose revocation announcement was lost.
//!
//! One task for the whole node instead of a timer and a store read inside every socket: a
//! socket's task state is memory held for the socket's whole life, and a session's sockets share
//! one check. Each round asks the [`SocketCounter`] which sessions hold open sockets
//! ([`SocketCounter::due_checks`]), probes each in the store, and ends those no longer live,
//! which cancels their sockets' [`SocketSlot::ended`](super::SocketSlot::ended) token; they
//! close with 4401. Revocations on this node and announced by others close sockets at once
//! through the relay; this check catches the rest within one interval.

use std::sync::Arc;
use std::time::Duration;

use continuum_core::SessionId;
use continuum_store::{SessionError, Sessions, StoreError};
use futures_util::StreamExt as _;
use tokio_util::sync::CancellationToken;

use super::counter::{Probe, SocketCounter};

/// How often the sessions holding sync sockets are checked, by default. A revocation closes the
/// session's sockets at once (through the relay, from this node's session events and the other
/// nodes' over the bus); the check is what catches idle and absolute expiry, and revocations
/// whose announcement was lost.
pub const SESSION_CHECK: Duration = Duration::from_millis(250);

/// Sessions probed at once in a round, so a round over many sessions on a networked store takes
/// a few round trips rather than one per session, without flooding the store.
pub const CONCURRENT_PROBES: usize = 16;

/// Checks every `interval` that the sessions holding sync sockets on this node are still live.
#[derive(Debug)]
pub struct SessionChecker {
    sockets: Arc<SocketCounter>,
    sessions: Sessions,
    interval: Duration,
}

impl SessionChecker {
    /// A checker of `sockets`' sessions in `sessions`.
    pub fn new(sockets: Arc<SocketCounter>, sessions: Sessions, interval: Duration) -> Self {
        Self { sockets, sessions, interval }
    }

    /// One round: probes every session holding a socket and ends those no longer live.
    /// Returns how many sockets were told to close.
    pub async fn check(&self) -> usize {
        let mut probes = futures_util::stream::iter(self.sockets.due_checks())
            .map(|(sid, probe)| async move { (sid, self.is_live(sid, probe).await) })
            .buffer_unordered(CONCURRENT_PROBES);
        let mut closed = 0;
        while let Some((sid, live)) = probes.next().await {
            if !live {
                let sockets = self.sockets.end(&sid);
                tracing::debug!(%sid, sockets, "closing the sync sockets of an expired session");
                closed += sockets;
            }
        }
        closed
    }

    /// Whether `sid` is still live. A session the store cannot find or read counts as ended: a
    /// socket does not outlive what it cannot show is a live session — except while the store
    /// says it is *unavailable* (an edge whose origin is away, a cluster settling), which says
    /// nothing about the session: the socket stays, and the next round asks again. A
    /// revocation still closes it at once through the relay when it is heard.
    async fn is_live(&self, sid: SessionId, probe: Probe) -> bool {
        let unavailable =
            |error: &SessionError| matches!(error, SessionError::Store(StoreError::Unavailable(_)));
        match probe {
            Probe::Touch => match self.sessions.touch_live(&sid).await {
                Ok(live) => live,
                Err(error) => unavailable(&error),
            },
            Probe::Read => {
                let now = self.sessions.now();
                match self.sessions.get(&sid).await {
                    Ok(record) => record.is_live(now),
                    Err(error) => unavailable(&error),
                }
            }
        }
    }

    /// Runs a round every interval until `cancel` fires (also during a round).
    pub async fn run(self, cancel: CancellationToken) {
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = ticker.tick() => {}
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = self.check() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use continuum_core::{ManualClock, NewSession, Timestamp};
    use continuum_store::MemoryStore;

    use super::*;
    use crate::sockets::counter::SocketOwner;

    async fn session(sessions: &Sessions) -> SessionId {
        let ask = NewSession { idle_timeout_secs: Some(10), ..NewSession::default() };
        sessions.create(ask).await.unwrap().0.sid
    }

    #[tokio::test]
    async fn a_round_ends_revoked_and_idle_sessions_and_touches_active_ones() {
        let clock = ManualClock::new(Timestamp::from_millis(1_000_000));
        let sessions = Sessions::new(Arc::new(MemoryStore::new()), Arc::new(clock.clone()));
        let sockets = Arc::new(SocketCounter::default());
        let (busy, quiet, revoked) =
            (session(&sessions).await, session(&sessions).await, session(&sessions).await);
        let busy_socket = sockets.acquire(SocketOwner::Session(busy), 4).unwrap();
        let quiet_socket = sockets.acquire(SocketOwner::Session(quiet), 4).unwrap();
        let revoked_socket = sockets.acquire(SocketOwner::Session(revoked), 4).unwrap();
        let backend_socket = sockets.acquire(SocketOwner::Backend, 4).unwrap();
        let checker = SessionChecker::new(Arc::clone(&sockets), sessions.clone(), Duration::from_millis(250));

        sessions.revoke(&revoked).await.unwrap();
        clock.advance(Duration::from_secs(6));
        busy_socket.mark_active();
        assert_eq!(checker.check().await, 1, "the revoked session's socket");
        assert!(revoked_socket.ended().is_cancelled());

        // 12 s after creation: past the idle timeout of a session seen only at creation.
        clock.advance(Duration::from_secs(6));
        assert_eq!(checker.check().await, 1, "the idle session's socket");
        assert!(quiet_socket.ended().is_cancelled());
        assert!(!busy_socket.ended().is_cancelled(), "touched at 6 s by its socket's activity");
        assert!(!backend_socket.ended().is_cancelled(), "a backend's socket has no session to end");
        assert!(sessions.get(&busy).await.unwrap().is_live(sessions.now()));
        assert_eq!(checker.check().await, 0, "ended sessions are not probed again");
    }
}
