//! [`Replayer`]: the task that carries the [`EdgeQueue`] to the origin — batches in queue order
//! to `POST /v1/edge/replay`, the origin's high-water mark acknowledged into the queue (which
//! drops what it covers), retried with backoff while the origin is away. Updates the origin
//! refused (their session ended before they reached it) are reported: the session's sockets
//! at this edge close (the app's relay hears a revocation on the [`EdgeBus`]).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use continuum_core::{Clock as _, Principal, SessionId, SystemClock};
use continuum_store::{Heard, Notice, SessionEvent, SessionEventKind};
use continuum_sync::DocRegistry;
use http::StatusCode;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::bus::EdgeBus;
use crate::metrics::EdgeMetrics;
use crate::origin::OriginClient;
use crate::queue::{EdgeQueue, QueuedUpdate};
use crate::upstream::Upstream;

/// Entries read from the queue per batch at most.
const BATCH: usize = 512;
/// Encoded bytes of updates per batch at most (one larger entry goes alone).
const BATCH_BYTES: usize = 1024 * 1024;
/// How long an idle replayer waits before looking at the queue again (it is woken by pushes).
const IDLE: Duration = Duration::from_millis(200);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

#[derive(Deserialize)]
struct Answer {
    mark: u64,
    refused: Vec<Refused>,
    applied_total: u64,
    /// Absent from an origin older than the count.
    #[serde(default)]
    already_held_total: u64,
    refused_total: u64,
}

#[derive(Deserialize)]
struct Refused {
    sid: String,
    principal: Option<String>,
    count: u64,
}

/// The replaying task of one edge.
#[derive(Debug)]
pub struct Replayer {
    /// The queue it drains.
    pub queue: EdgeQueue,
    /// The origin.
    pub origin: OriginClient,
    /// This edge's id, which the origin keeps its mark under.
    pub edge_id: String,
    /// Where refused sessions are announced.
    pub bus: Arc<EdgeBus>,
    /// Its counters.
    pub metrics: Arc<EdgeMetrics>,
    /// Which appends reached the origin, told of each new mark.
    pub upstream: Arc<Upstream>,
    /// The app's documents, once it is built: told which of them advanced, so their peers get
    /// cloud acks.
    pub registry: Arc<OnceLock<DocRegistry>>,
}

/// The request body for `entries`: consecutive entries from the first, within [`BATCH_BYTES`].
fn body(edge_id: &str, entries: &[QueuedUpdate]) -> (Vec<u8>, usize) {
    let mut taken = Vec::new();
    let mut bytes = 0;
    for entry in entries {
        if !taken.is_empty() && bytes + entry.update.len() > BATCH_BYTES {
            break;
        }
        bytes += entry.update.len();
        taken.push(serde_json::json!({
            "seq": entry.seq,
            "sid": entry.sid.map(|sid| sid.to_string()),
            "scope": entry.key.scope.to_string(),
            "name": entry.key.name.as_str(),
            "update": URL_SAFE_NO_PAD.encode(&entry.update),
        }));
    }
    let count = taken.len();
    (serde_json::to_vec(&serde_json::json!({"edge": edge_id, "entries": taken})).expect("JSON"), count)
}

impl Replayer {
    /// Replays until `cancel` fires.
    pub async fn run(self, cancel: CancellationToken) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let wait = match self.round().await {
                Ok(true) => {
                    backoff = FIRST_BACKOFF;
                    continue;
                }
                Ok(false) => IDLE,
                Err(()) => {
                    self.metrics.replay_errors.inc();
                    let wait = backoff;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    wait
                }
            };
            tokio::select! {
                () = cancel.cancelled() => return,
                () = self.queue.pushed().notified(), if wait == IDLE => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One batch: `Ok(true)` if something was replayed, `Ok(false)` if the queue is empty.
    async fn round(&self) -> Result<bool, ()> {
        let (_, pending) = self.queue.pending(BATCH).await.map_err(|error| {
            tracing::error!(error = &error as &dyn std::error::Error, "cannot read the edge queue");
        })?;
        if let Ok((waiting, last)) = self.queue.stats().await {
            self.metrics.queue_length.set(waiting as i64);
            self.metrics.queue_last_seq.set(last as i64);
        }
        self.metrics.queue_oldest_age.set(self.queue.oldest_age().as_secs_f64());
        if pending.is_empty() {
            return Ok(false);
        }
        let (body, count) = body(&self.edge_id, &pending);
        let (status, answer) = self.origin.replay(body).await.map_err(|error| {
            tracing::debug!(
                error = &error as &dyn std::error::Error,
                "replay to the origin failed; retrying"
            );
        })?;
        if status != StatusCode::OK {
            tracing::warn!(%status, answer = %String::from_utf8_lossy(&answer), "the origin refused a replay batch; retrying");
            return Err(());
        }
        let answer: Answer = serde_json::from_slice(&answer).map_err(|error| {
            tracing::warn!(%error, "the origin's replay answer was not understood");
        })?;
        self.queue.acknowledge(answer.mark).await.map_err(|error| {
            tracing::error!(
                error = &error as &dyn std::error::Error,
                "cannot acknowledge into the edge queue"
            );
        })?;
        let advanced = self.upstream.acknowledged(answer.mark);
        if let Some(registry) = self.registry.get() {
            for key in advanced {
                registry.upstream_advanced(&key);
            }
        }
        self.metrics.replays.inc();
        self.metrics.origin_applied.set(answer.applied_total as i64);
        self.metrics.origin_already_held.set(answer.already_held_total as i64);
        self.metrics.origin_refused.set(answer.refused_total as i64);
        for refused in answer.refused {
            self.metrics.refused.inc_by(refused.count);
            tracing::warn!(sid = %refused.sid, count = refused.count, "updates of an ended session were refused at replay");
            let sid = SessionId::parse(&refused.sid).ok();
            let principal = refused.principal.as_deref().and_then(|p| Principal::parse_any(p).ok());
            if let (Some(sid), Some(principal)) = (sid, principal) {
                let event =
                    SessionEvent { kind: SessionEventKind::Revoked, sid, principal, at: SystemClock.now() };
                self.bus.deliver(Heard::Notice(Arc::new(Notice::Session(event))));
            }
        }
        tracing::debug!(count, mark = answer.mark, "replayed a batch");
        Ok(true)
    }
}
