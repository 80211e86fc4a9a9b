//! What the other nodes announce, applied to this node's session cache: [`apply`] decides
//! (pure), [`listen`] carries it out as notices arrive, [`beat`] tells the other nodes this one
//! is alive.

use std::sync::Arc;
use std::time::{Duration, Instant};

use continuum_store::session_cache::SessionCache;
use continuum_store::{Bus, Heard, Notice, SessionEventKind};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::{SessionCacheMetrics, SharedCache, lock};

/// How often a node with the cache on publishes [`Notice::Heartbeat`]. A cache's cap must be
/// a few of these, or a quiet bus reads as a broken one.
pub const HEARTBEAT: Duration = Duration::from_secs(1);

/// What `notice` does to `cache` at `now`; returns whether it dropped an entry's worth of
/// trust (anything but a heartbeat, a creation or a document append). Every notice proves the
/// bus alive.
///
/// A revocation or expiry sends the entry back to the store rather than ending it here (as an
/// edge's cache does): the store still keeps a revoked session's tombstone, and this node must
/// answer exactly as the store would (`revoked`, not "no such session"). The tombstone it then
/// reads is final in the cache.
pub fn apply(cache: &mut SessionCache, notice: &Notice, now: Instant) -> bool {
    cache.heard(now);
    match notice {
        Notice::Session(event) if event.kind.ends_session() || event.kind == SessionEventKind::Rotated => {
            cache.changed(&event.sid)
        }
        Notice::SessionWritten { sid } => cache.changed(sid),
        Notice::SignedOutEverywhere { principal } => cache.signed_out(principal.as_str()),
        Notice::Session(_) | Notice::DocAppended { .. } | Notice::Heartbeat => return false,
    }
    true
}

/// Applies what `heard` (a [`Bus::subscribe`]r) hears to `cache` until `stop` fires; a gap, or
/// falling behind, empties it of everything but ended sessions.
pub async fn listen(
    cache: SharedCache,
    mut heard: broadcast::Receiver<Heard>,
    metrics: Arc<SessionCacheMetrics>,
    stop: CancellationToken,
) {
    loop {
        let next = tokio::select! {
            () = stop.cancelled() => return,
            next = heard.recv() => next,
        };
        match next {
            Ok(Heard::Notice(notice)) => {
                if apply(&mut lock(&cache), &notice, Instant::now()) {
                    metrics.invalidations.inc();
                }
            }
            Ok(Heard::Gap) | Err(broadcast::error::RecvError::Lagged(_)) => {
                tracing::info!("session cache emptied: notices from other nodes may have been missed");
                lock(&cache).reset();
                metrics.resets.inc();
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Publishes [`Notice::Heartbeat`] every [`HEARTBEAT`] until `stop` fires.
pub async fn beat(bus: Arc<dyn Bus>, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(HEARTBEAT);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        if let Err(error) = bus.publish(&Notice::Heartbeat).await {
            tracing::debug!(
                error = &error as &dyn std::error::Error,
                "the session cache's heartbeat was not published"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use continuum_core::{NewSession, Principal, SessionId, SessionPolicy, SessionRecord, Timestamp};
    use continuum_store::session_cache::{CachePolicy, Lookup};
    use continuum_store::{SessionEvent, SessionEventKind};

    use super::*;

    const POLICY: CachePolicy =
        CachePolicy { ttl: Duration::from_secs(30), cap: Duration::from_secs(5), capacity: 100 };

    fn held(cache: &mut SessionCache, principal: &str, now: Instant) -> Arc<SessionRecord> {
        let ask =
            NewSession { principal: Some(Principal::parse(principal).unwrap()), ..NewSession::default() };
        let (record, _) =
            SessionPolicy::default().new_session(ask, Timestamp::from_millis(1_000_000)).unwrap();
        let record = Arc::new(record);
        assert!(cache.insert(cache.ticket(), record.sid, Some(Arc::clone(&record)), now));
        record
    }

    fn event(kind: SessionEventKind, record: &SessionRecord) -> Notice {
        let principal = record.principal.clone();
        Notice::Session(SessionEvent { kind, sid: record.sid, principal, at: Timestamp::from_millis(0) })
    }

    #[test]
    fn writes_rotations_and_sign_outs_send_the_entry_back_to_the_store() {
        let now = Instant::now();
        let mut cache = SessionCache::new(POLICY);
        let (alice, bob, carol) =
            (held(&mut cache, "alice", now), held(&mut cache, "bob", now), held(&mut cache, "carol", now));
        assert!(apply(&mut cache, &Notice::SessionWritten { sid: alice.sid }, now));
        assert!(apply(&mut cache, &event(SessionEventKind::Rotated, &bob), now));
        assert_eq!(cache.get(&alice.sid, now), Lookup::Miss);
        assert_eq!(cache.get(&bob.sid, now), Lookup::Miss);
        assert!(matches!(cache.get(&carol.sid, now), Lookup::Hit(Some(_))));
        assert!(apply(&mut cache, &Notice::SignedOutEverywhere { principal: carol.principal.clone() }, now));
        assert_eq!(cache.get(&carol.sid, now), Lookup::Miss);
    }

    #[test]
    fn a_revocation_or_expiry_sends_the_entry_back_to_the_store_and_a_read_from_before_is_not_kept() {
        let now = Instant::now();
        let mut cache = SessionCache::new(POLICY);
        let (alice, bob) = (held(&mut cache, "alice", now), held(&mut cache, "bob", now));
        let ticket = cache.ticket();
        assert!(apply(&mut cache, &event(SessionEventKind::Revoked, &alice), now));
        assert!(apply(&mut cache, &event(SessionEventKind::Expired, &bob), now));
        assert_eq!(cache.get(&alice.sid, now), Lookup::Miss, "the store answers: its tombstone");
        assert_eq!(cache.get(&bob.sid, now), Lookup::Miss);
        assert!(!cache.insert(ticket, alice.sid, Some(alice.clone()), now), "a read from before");
        assert!(cache.insert(cache.ticket(), alice.sid, Some(alice), now), "one from after is");
    }

    #[test]
    fn heartbeats_creations_and_appends_only_prove_the_bus_alive() {
        let t0 = Instant::now();
        let mut cache = SessionCache::new(POLICY);
        let alice = held(&mut cache, "alice", t0);
        let later = t0 + Duration::from_secs(4);
        assert!(!apply(&mut cache, &Notice::Heartbeat, later));
        assert!(!apply(&mut cache, &event(SessionEventKind::Created, &alice), later));
        let at_8s = t0 + Duration::from_secs(8);
        assert!(matches!(cache.get(&alice.sid, at_8s), Lookup::Hit(Some(_))), "heard at 4 s: good until 9 s");
        assert_eq!(cache.get(&alice.sid, t0 + Duration::from_secs(9)), Lookup::Miss, "silent for the cap");
        assert_eq!(cache.get(&SessionId::generate(), later), Lookup::Miss);
    }
}
