//! Backend plane, for edge nodes: `POST /v1/edge/replay` — an edge's queued document updates,
//! in queue order, applied exactly once per (edge id, seq) against the edge's durable
//! high-water mark ([`EdgeMarks`]) — and, past the mark, an update the document already has
//! all of is not appended again, so a crash between the appends and the mark costs nothing
//! twice either; an update whose writer's session is no longer live (revoked
//! before the update reached the origin, or expired) or may not open the document is refused,
//! kept out of the document, counted, and announced on `/v1/events` as `refused_updates`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use continuum_core::{DocKey, Principal, SessionId};
use continuum_store::SessionError;
use continuum_sync::{Peer, PeerOptions, SyncError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::docs::open_doc;
use super::json_response;
use crate::edge_marks::{EdgeMarks, Mark};
use crate::error::{ApiError, Problem};
use crate::extract::BackendAuth;
use crate::state::AppState;

/// The largest replay body: one entry may hold an update up to the sync message limit (1 MiB),
/// base64url-encoded.
pub const MAX_REPLAY_BODY: usize = 8 * 1024 * 1024;

/// A batch of an edge's queue.
#[derive(Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// The edge's id: 1 to 64 of `A-Z a-z 0-9 - _ .`.
    pub edge: String,
    /// Entries in queue order, their seqs consecutive.
    pub entries: Vec<ReplayEntry>,
}

/// One queued update.
#[derive(Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct ReplayEntry {
    /// Its place in the edge's queue, from 1.
    pub seq: u64,
    /// The session whose device wrote it; none for the edge's own changes.
    pub sid: Option<String>,
    /// The document's scope.
    pub scope: String,
    /// The document's name.
    pub name: String,
    /// The Yjs v1 update, base64url without padding.
    pub update: String,
}

/// A session some of whose updates were refused.
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct RefusedView {
    /// The session.
    pub sid: String,
    /// Its principal, if the session is still known.
    pub principal: Option<String>,
    /// How many of its updates were refused in this batch.
    pub count: u64,
}

/// What the origin did with a batch.
#[derive(Serialize, ToSchema, Debug)]
pub struct ReplayAnswer {
    /// The edge's high-water mark now: every entry up to it is answered for; the edge may drop
    /// them.
    pub mark: u64,
    /// Entries of this batch applied: each changed the document.
    pub applied: u64,
    /// Entries of this batch above the mark whose content the document already had all of
    /// (applied before the origin's last crash, before its mark was written, or brought by the
    /// edge's live sync of the document): nothing of them is appended again.
    pub already_held: u64,
    /// Entries of this batch at or below the mark before it (answered for before, skipped).
    pub duplicates: u64,
    /// Entries of this batch refused, per session.
    pub refused: Vec<RefusedView>,
    /// Entries of this edge applied, in total.
    pub applied_total: u64,
    /// Entries of this edge already held, in total: `applied_total + already_held_total +
    /// refused_total` is the mark.
    pub already_held_total: u64,
    /// Entries of this edge refused, in total.
    pub refused_total: u64,
}

struct Parsed {
    seq: u64,
    sid: Option<SessionId>,
    key: DocKey,
    update: Vec<u8>,
}

fn parse(request: &ReplayRequest) -> Result<Vec<Parsed>, ApiError> {
    let edge_ok = (1..=64).contains(&request.edge.len())
        && request
            .edge
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
    if !edge_ok {
        return Err(ApiError::bad_request("invalid-edge-id", "edge must be 1 to 64 of A-Z a-z 0-9 - _ ."));
    }
    let mut parsed = Vec::with_capacity(request.entries.len());
    for (index, entry) in request.entries.iter().enumerate() {
        let bad =
            |what: String| ApiError::bad_request("invalid-replay-entry", format!("entry {index}: {what}"));
        let sid =
            entry.sid.as_deref().map(SessionId::parse).transpose().map_err(|e| bad(format!("sid: {e}")))?;
        let key = DocKey::parse(&entry.scope, &entry.name).map_err(|e| bad(format!("document: {e}")))?;
        let update = URL_SAFE_NO_PAD.decode(&entry.update).map_err(|e| bad(format!("update: {e}")))?;
        if let Some(previous) = parsed.last().map(|p: &Parsed| p.seq)
            && entry.seq != previous + 1
        {
            return Err(bad(format!("seq {} does not follow {previous}", entry.seq)));
        }
        parsed.push(Parsed { seq: entry.seq, sid, key, update });
    }
    Ok(parsed)
}

/// Applies a batch of an edge's queue: each entry above the edge's mark once, in order; entries
/// of sessions no longer live are refused. Answers once the applied updates are durable and the
/// new mark is stored. 409 if the batch starts past the mark + 1 (an entry would be skipped).
#[utoipa::path(post, path = "/v1/edge/replay", operation_id = "edge_replay", tag = "backend",
    security(("api_key" = [])),
    request_body = ReplayRequest,
    responses((status = 200, body = ReplayAnswer), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 409, body = Problem), (status = 413, body = Problem), (status = 503, body = Problem)))]
pub async fn replay(
    State(state): State<AppState>,
    _: BackendAuth,
    marks: Option<Extension<Arc<EdgeMarks>>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(Extension(marks)) = marks else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "replay-unavailable",
            "this server takes no edge replays",
        ));
    };
    let request: ReplayRequest = serde_json::from_slice(&body)
        .map_err(|error| ApiError::bad_request("invalid-json", error.to_string()))?;
    let entries = parse(&request)?;
    let lock = marks.lock_of(&request.edge);
    let mut held = lock.lock().await;
    let mut mark = match *held {
        Some(mark) => mark,
        None => marks.load(&request.edge).map_err(ApiError::internal)?,
    };
    *held = Some(mark);
    if let Some(first) = entries.first()
        && first.seq > mark.mark + 1
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "replay-gap",
            format!(
                "the batch starts at {}, after the mark {}: resend from {}",
                first.seq,
                mark.mark,
                mark.mark + 1
            ),
        ));
    }
    let now = state.sessions().now();
    let (mut applied, mut already_held, mut duplicates) = (0, 0, 0);
    let mut refused: BTreeMap<SessionId, (Option<Principal>, u64)> = BTreeMap::new();
    let mut writers: HashMap<SessionId, Option<Arc<continuum_core::SessionRecord>>> = HashMap::new();
    let mut peers: HashMap<(DocKey, Option<SessionId>), Peer> = HashMap::new();
    let mut last = mark.mark;
    for entry in entries {
        if entry.seq <= mark.mark {
            duplicates += 1;
            continue;
        }
        last = entry.seq;
        if let Some(sid) = entry.sid {
            let record = match writers.get(&sid) {
                Some(record) => record.clone(),
                None => {
                    let record = match state.sessions().get(&sid).await {
                        Ok(record) => Some(record),
                        Err(SessionError::NotFound) => None,
                        Err(error) => return Err(error.into()),
                    };
                    writers.insert(sid, record.clone());
                    record
                }
            };
            let allowed = record.as_ref().is_some_and(|r| r.is_live(now) && entry.key.scope.is_open_to(r));
            if !allowed {
                let count = refused.entry(sid).or_insert((record.map(|r| r.principal.clone()), 0));
                count.1 += 1;
                continue;
            }
        }
        let peer = match peers.entry((entry.key.clone(), entry.sid)) {
            std::collections::hash_map::Entry::Occupied(peer) => peer.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let doc = open_doc(&state, &entry.key, true).await?;
                slot.insert(doc.connect(PeerOptions { session: entry.sid, ..PeerOptions::default() }))
            }
        };
        match peer.receive_update(&entry.update).await {
            Ok(true) => applied += 1,
            // The document has all of it: an earlier replay applied it and the origin stopped
            // before its mark said so (a crash between the append and the mark), or the edge's
            // live sync of the document brought it first. Nothing is appended again.
            Ok(false) => already_held += 1,
            // An update no document would take is dropped, counted as refused: replaying it
            // again would fail the same way and hold up the whole queue.
            Err(
                error @ (SyncError::Malformed(_) | SyncError::DocTooLarge { .. } | SyncError::Rejected(_)),
            ) => {
                tracing::warn!(doc = %entry.key, seq = entry.seq, %error, "a replayed update was refused");
                let sid = entry.sid.unwrap_or_else(|| SessionId::from_bytes([0; 16]));
                refused.entry(sid).or_insert((None, 0)).1 += 1;
            }
            Err(error) => {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "replay-failed",
                    error.to_string(),
                ));
            }
        }
    }
    for peer in peers.values() {
        peer.doc().flush().await.map_err(|error| {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "replay-failed", error.to_string())
        })?;
    }
    let refused_count: u64 = refused.values().map(|(_, count)| count).sum();
    mark = Mark {
        mark: last,
        applied: mark.applied + applied,
        refused: mark.refused + refused_count,
        already_held: mark.already_held + already_held,
    };
    marks.store(&request.edge, mark).map_err(ApiError::internal)?;
    *held = Some(mark);
    let refused: Vec<RefusedView> = refused
        .into_iter()
        .map(|(sid, (principal, count))| {
            state.feed().push_refused(sid, principal.clone(), count, now);
            RefusedView { sid: sid.to_string(), principal: principal.map(|p| p.as_str().to_owned()), count }
        })
        .collect();
    let answer = ReplayAnswer {
        mark: mark.mark,
        applied,
        already_held,
        duplicates,
        refused,
        applied_total: mark.applied,
        already_held_total: mark.already_held,
        refused_total: mark.refused,
    };
    Ok(json_response(StatusCode::OK, &answer))
}
