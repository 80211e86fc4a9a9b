//! [`EventListener`]: the task reading the origin's `GET /v1/events` — revocations, rotations and
//! sign-outs applied to the [`crate::cache::SessionCache`] at once, then delivered on the
//! [`EdgeBus`] (so the app closes the sockets of ended sessions); every chunk, heartbeats
//! included, marks the stream heard. A stream silent for longer than its silence limit counts
//! as dead (a cut without a FIN): the listener drops it and reconnects with `Last-Event-ID`,
//! while the cache's entries run out `cap` after the last thing heard.

use std::sync::Arc;
use std::time::{Duration, Instant};

use continuum_core::{Clock as _, Principal, SessionId, SystemClock};
use continuum_store::{Heard, Notice, SessionEvent, SessionEventKind};
use continuum_tower::sse::{SseEvent, SseParser};
use http_body_util::BodyExt as _;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::bus::EdgeBus;
use crate::cached_store::{SharedCache, lock};
use crate::metrics::EdgeMetrics;
use crate::origin::OriginClient;
use continuum_store::session_cache::SessionCache;

/// First wait before reconnecting; doubles on each failure.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

#[derive(Deserialize)]
struct EventData {
    sid: String,
    principal: String,
}

#[derive(Deserialize)]
struct SignedOutData {
    principal: String,
}

/// What one event does to the cache, and what to deliver on the bus. Pure (time passed in).
/// An event that names an ending but does not parse resets the cache: it might have been a
/// revocation.
pub fn apply(cache: &mut SessionCache, event: &SseEvent, now: Instant) -> Option<Heard> {
    let session = |kind: SessionEventKind| -> Option<SessionEvent> {
        let data: EventData = serde_json::from_str(&event.data).ok()?;
        let sid = SessionId::parse(&data.sid).ok()?;
        let principal = Principal::parse_any(&data.principal).ok()?;
        Some(SessionEvent { kind, sid, principal, at: SystemClock.now() })
    };
    let kind = match event.event.as_str() {
        "reset" => {
            cache.reset();
            return Some(Heard::Gap);
        }
        "signed_out_everywhere" => {
            let Ok(data) = serde_json::from_str::<SignedOutData>(&event.data) else {
                cache.reset();
                return Some(Heard::Gap);
            };
            cache.signed_out(&data.principal);
            let principal = Principal::parse_any(&data.principal).ok()?;
            return Some(Heard::Notice(Arc::new(Notice::SignedOutEverywhere { principal })));
        }
        other => other.parse::<SessionEventKind>().ok()?,
    };
    let Some(parsed) = session(kind) else {
        if kind == SessionEventKind::Created {
            return None;
        }
        cache.reset();
        return Some(Heard::Gap);
    };
    match kind {
        SessionEventKind::Revoked | SessionEventKind::Expired => cache.ended(parsed.sid, now),
        SessionEventKind::Rotated => cache.changed(&parsed.sid),
        SessionEventKind::Created => {}
    }
    Some(Heard::Notice(Arc::new(Notice::Session(parsed))))
}

/// The task keeping the cache in step with the origin.
#[derive(Debug)]
pub struct EventListener {
    /// The origin.
    pub origin: OriginClient,
    /// The cache it keeps honest.
    pub cache: SharedCache,
    /// Where what it heard goes next.
    pub bus: Arc<EdgeBus>,
    /// Its counters.
    pub metrics: Arc<EdgeMetrics>,
    /// How long the stream may stay silent before it counts as dead (a few heartbeats).
    pub silence: Duration,
}

impl EventListener {
    /// Listens, reconnecting, until `cancel` fires.
    pub async fn run(self, cancel: CancellationToken) {
        let mut last_id: Option<String> = None;
        let mut backoff = FIRST_BACKOFF;
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = self.listen_once(&mut last_id, &mut backoff) => {}
            }
            self.metrics.stream_connected.set(0);
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One connection, until it ends, breaks or falls silent.
    async fn listen_once(&self, last_id: &mut Option<String>, backoff: &mut Duration) {
        let mut body = match self.origin.events(last_id.as_deref()).await {
            Ok(body) => body,
            Err(error) => {
                tracing::debug!(
                    error = &error as &dyn std::error::Error,
                    "cannot open the origin's event stream"
                );
                return;
            }
        };
        self.metrics.stream_connects.inc();
        self.metrics.stream_connected.set(1);
        *backoff = FIRST_BACKOFF;
        tracing::info!(origin = self.origin.base(), "listening to the origin's events");
        let mut parser = SseParser::default();
        loop {
            let frame = match tokio::time::timeout(self.silence, body.frame()).await {
                Ok(Some(Ok(frame))) => frame,
                Ok(Some(Err(_)) | None) => {
                    tracing::warn!("the origin's event stream ended; reconnecting");
                    return;
                }
                Err(_) => {
                    tracing::warn!(silence = ?self.silence, "the origin's event stream fell silent; reconnecting");
                    return;
                }
            };
            let Some(bytes) = frame.data_ref() else { continue };
            let events = parser.push(bytes);
            let mut heard = Vec::with_capacity(events.len());
            {
                let mut cache = lock(&self.cache);
                let now = Instant::now();
                for event in &events {
                    if let Some(item) = apply(&mut cache, event, now) {
                        heard.push(item);
                    }
                    if let Some(id) = &event.id {
                        *last_id = Some(id.clone());
                    }
                }
                // Heard only once its events are applied: an entry is never vouched for by a
                // chunk whose revocations are not in the cache yet.
                cache.heard(now);
            }
            self.metrics.events_applied.inc_by(heard.len() as u64);
            let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            self.metrics.stream_heard_at.set(unix.as_secs_f64());
            for item in heard {
                self.bus.deliver(item);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use continuum_core::{NewSession, SessionPolicy, Timestamp};

    use super::*;
    use continuum_store::session_cache::{CachePolicy, Lookup};

    fn cache_with(principal: &str) -> (SessionCache, SessionId) {
        let mut cache = SessionCache::new(CachePolicy {
            ttl: Duration::from_secs(60),
            cap: Duration::from_secs(5),
            capacity: 10,
        });
        let ask =
            NewSession { principal: Some(Principal::parse(principal).unwrap()), ..NewSession::default() };
        let (record, _) = SessionPolicy::default().new_session(ask, Timestamp::from_millis(1_000)).unwrap();
        let sid = record.sid;
        cache.insert(cache.ticket(), sid, Some(Arc::new(record)), Instant::now());
        (cache, sid)
    }

    fn event(kind: &str, data: String) -> SseEvent {
        SseEvent { id: Some("x-1".into()), event: kind.into(), data }
    }

    #[test]
    fn an_ending_event_ends_the_session_and_is_delivered() {
        for kind in ["revoked", "expired"] {
            let (mut cache, sid) = cache_with("alice");
            let data = format!(r#"{{"kind":"{kind}","sid":"{sid}","principal":"alice","at":"t"}}"#);
            let heard = apply(&mut cache, &event(kind, data), Instant::now());
            assert_eq!(cache.get(&sid, Instant::now()), Lookup::Hit(None), "{kind}");
            let Some(Heard::Notice(notice)) = heard else { panic!("delivered") };
            assert!(
                matches!(&*notice, Notice::Session(event) if event.sid == sid && event.kind.ends_session())
            );
        }
    }

    #[test]
    fn rotation_and_sign_out_send_the_session_back_to_the_origin() {
        let (mut cache, sid) = cache_with("alice");
        let data = format!(r#"{{"kind":"rotated","sid":"{sid}","principal":"alice","at":"t"}}"#);
        apply(&mut cache, &event("rotated", data), Instant::now());
        assert_eq!(cache.get(&sid, Instant::now()), Lookup::Miss);
        let (mut cache, sid) = cache_with("alice");
        let heard = apply(
            &mut cache,
            &event("signed_out_everywhere", r#"{"principal":"alice","at":"t"}"#.into()),
            Instant::now(),
        );
        assert_eq!(cache.get(&sid, Instant::now()), Lookup::Miss);
        assert!(
            matches!(heard, Some(Heard::Notice(notice)) if matches!(&*notice, Notice::SignedOutEverywhere { .. }))
        );
    }

    #[test]
    fn unreadable_endings_and_resets_clear_the_cache_and_created_does_nothing() {
        let (mut cache, sid) = cache_with("alice");
        let data = format!(r#"{{"kind":"created","sid":"{sid}","principal":"alice","at":"t"}}"#);
        assert!(matches!(apply(&mut cache, &event("created", data), Instant::now()), Some(Heard::Notice(_))));
        assert!(matches!(cache.get(&sid, Instant::now()), Lookup::Hit(Some(_))));
        assert!(apply(&mut cache, &event("created", "garbage".into()), Instant::now()).is_none());
        assert!(apply(&mut cache, &event("message", "hello".into()), Instant::now()).is_none());
        assert!(matches!(
            apply(&mut cache, &event("revoked", "garbage".into()), Instant::now()),
            Some(Heard::Gap)
        ));
        assert_eq!(
            cache.get(&sid, Instant::now()),
            Lookup::Miss,
            "a revocation we cannot read might be this one"
        );
        let (mut cache, sid) = cache_with("alice");
        assert!(matches!(apply(&mut cache, &event("reset", "{}".into()), Instant::now()), Some(Heard::Gap)));
        assert_eq!(cache.get(&sid, Instant::now()), Lookup::Miss);
    }
}
