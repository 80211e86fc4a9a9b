//! Backend plane, for edge nodes: the downstream sync socket — the y-websocket an edge keeps
//! to the origin for each document its devices have open, over which the origin's changes (made
//! here, or replayed from other edges) reach the edge's copy.
//!
//! It only reads: what an edge's devices write goes up by its durable queue and
//! `POST /v1/edge/replay`, which applies each entry exactly once and refuses ended sessions'
//! updates; an update on this socket would bypass both, so it is refused (close 1008) and the
//! socket's sync step 2 is ignored. Its sockets are counted apart from clients' and from other
//! backends' ([`SocketOwner::Edge`]), up to [`crate::SyncLimits::max_edge_sockets`].
//!
//! Awareness goes both ways on it: the edge sends its devices' states and gets everyone
//! else's. Its peer is a relay ([`PeerOptions::relay`]): it may speak for up to
//! [`continuum_sync::MAX_RELAYED_CLIENTS`] clients, and its states go when the socket does.

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::StatusCode;
use axum::response::Response;
use continuum_sync::PeerOptions;

use super::docs::open_doc;
use crate::error::{ApiError, Problem};
use crate::extract::{BackendAuth, DocPath};
use crate::sockets::SocketOwner;
use crate::state::AppState;
use crate::sync::upgrade_socket;

/// The downstream of an edge node for one document: a y-websocket that only reads. The server
/// greets with sync step 1 (ignore it: what the edge has goes up by replay); the edge sends its
/// step 1 and gets the step 2 of what it lacks, then every change the document takes here.
/// Updates sent on it are refused (close 1008); awareness is relayed both ways.
#[utoipa::path(get, path = "/v1/edge/sync/{scope}/{name}", operation_id = "edge_sync_socket", tag = "backend",
    security(("api_key" = [])),
    params(("scope" = String, Path, description = "`user:<principal>` or `session:<sid>`"),
           ("name" = String, Path, description = "document name")),
    responses((status = 101, description = "the socket is open"), (status = 400, body = Problem),
              (status = 401, body = Problem), (status = 426, body = Problem), (status = 429, body = Problem)))]
pub async fn socket(
    State(state): State<AppState>,
    _: BackendAuth,
    DocPath(key): DocPath,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::new(StatusCode::UPGRADE_REQUIRED, "websocket-required", rejection.body_text())
    })?;
    let limit = state.sync_limits().max_edge_sockets;
    let slot = state.sockets().acquire(SocketOwner::Edge, limit).ok_or_else(|| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-sockets",
            format!("edges already hold {limit} downstream sockets"),
        )
    })?;
    let doc = open_doc(&state, &key, true).await?;
    let peer = doc.connect(PeerOptions { read_only: true, relay: true, ..PeerOptions::default() });
    Ok(upgrade_socket(upgrade, peer, state, slot, "edge sync"))
}
