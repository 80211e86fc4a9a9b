//! [`EventListener`]: remote mode's background task that reads `GET /v1/events` and keeps the
//! cache honest — evicts a sid on `revoked`, `expired` or `rotated`, a principal on
//! `signed_out_everywhere` (its sealed tokens included), clears everything on `reset`
//! and whenever the stream is lost, and reconnects with `Last-Event-ID`.
//!
//! While the stream is down the cache is not only cleared but bypassed ([`StreamState::is_live`]):
//! without events, nothing bounds how long a revoked session would stay cached but the TTL, and
//! we promise "at once".

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::BodyExt as _;
use serde::Deserialize;
use tokio::task::JoinHandle;

use crate::cache::SessionCache;
use crate::client::ContinuumClient;
use crate::sse::{SseEvent, SseParser};

/// First wait before reconnecting; doubles on each failure.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Whether the event stream is connected: the cache may answer only while it is.
#[derive(Debug, Default)]
pub struct StreamState(AtomicBool);

impl StreamState {
    /// Whether events are flowing now.
    pub fn is_live(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn set(&self, live: bool) {
        self.0.store(live, Ordering::Release);
    }
}

#[derive(Deserialize)]
struct EventData {
    sid: String,
}

#[derive(Deserialize)]
struct SignedOutData {
    principal: String,
}

/// What one event does to the cache. Pure, so it is unit-tested.
fn apply(cache: &mut SessionCache, event: &SseEvent) {
    match event.event.as_str() {
        "revoked" | "expired" | "rotated" => match serde_json::from_str::<EventData>(&event.data) {
            Ok(data) => cache.evict(&data.sid),
            // An event we cannot read might have been a revocation: be safe.
            Err(_) => cache.clear(),
        },
        "signed_out_everywhere" => match serde_json::from_str::<SignedOutData>(&event.data) {
            Ok(data) => cache.evict_principal(&data.principal),
            Err(_) => cache.clear(),
        },
        "reset" => cache.clear(),
        _ => {}
    }
}

/// The owner of the listening task: aborts it when dropped (the layer and every clone gone).
#[derive(Debug)]
pub struct EventListener {
    task: JoinHandle<()>,
}

impl Drop for EventListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl EventListener {
    /// Starts listening on the current tokio runtime.
    pub fn spawn(client: ContinuumClient, cache: Arc<Mutex<SessionCache>>, state: Arc<StreamState>) -> Self {
        Self { task: tokio::spawn(listen(client, cache, state)) }
    }
}

async fn listen(client: ContinuumClient, cache: Arc<Mutex<SessionCache>>, state: Arc<StreamState>) {
    let mut last_id: Option<String> = None;
    let mut backoff = FIRST_BACKOFF;
    loop {
        match client.events(last_id.as_deref()).await {
            Ok(mut body) => {
                state.set(true);
                backoff = FIRST_BACKOFF;
                let mut parser = SseParser::default();
                while let Some(Ok(frame)) = body.frame().await {
                    let Some(bytes) = frame.data_ref() else { continue };
                    let events = parser.push(bytes);
                    let mut cache = cache.lock().expect("cache lock");
                    for event in &events {
                        apply(&mut cache, event);
                        if let Some(id) = &event.id {
                            last_id = Some(id.clone());
                        }
                    }
                }
                tracing::warn!("the Continuum event stream ended; reconnecting");
            }
            Err(error) => tracing::warn!(%error, "cannot open the Continuum event stream"),
        }
        // Events may be lost from here on: nothing cached can be trusted.
        state.set(false);
        cache.lock().expect("cache lock").clear();
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::cache::digest;

    fn event(kind: &str, data: &str) -> SseEvent {
        SseEvent { id: Some("1".into()), event: kind.into(), data: data.into() }
    }

    fn filled() -> SessionCache {
        let mut cache = SessionCache::new(Duration::from_secs(60), 10);
        for sid in ["a", "b"] {
            let session = serde_json::from_value(serde_json::json!({"sid": sid, "principal": "p"})).unwrap();
            cache.insert(cache.ticket(), digest(sid), session, Instant::now());
        }
        cache
    }

    #[test]
    fn events_evict_their_sid_and_reset_clears() {
        for kind in ["revoked", "expired", "rotated"] {
            let mut cache = filled();
            apply(&mut cache, &event(kind, r#"{"kind":"x","sid":"a","principal":"p","at":"t"}"#));
            assert_eq!(cache.len(), 1, "{kind}");
        }
        let mut cache = filled();
        apply(&mut cache, &event("created", r#"{"sid":"a"}"#));
        assert_eq!(cache.len(), 2);
        apply(&mut cache, &event("revoked", "not json"));
        assert!(cache.is_empty(), "an unreadable revocation clears all");
        let mut cache = filled();
        apply(&mut cache, &event("reset", r#"{"reason":"r"}"#));
        assert!(cache.is_empty());
        let mut cache = filled();
        apply(&mut cache, &event("signed_out_everywhere", r#"{"principal":"q","at":"t"}"#));
        assert_eq!(cache.len(), 2, "another principal's sign-out keeps these");
        apply(&mut cache, &event("signed_out_everywhere", r#"{"principal":"p","at":"t"}"#));
        assert!(cache.is_empty(), "both were p's");
        let mut cache = filled();
        apply(&mut cache, &event("signed_out_everywhere", "{}"));
        assert!(cache.is_empty(), "an unreadable sign-out clears all");
    }
}
