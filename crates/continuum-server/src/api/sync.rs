//! Client plane, live documents: the y-websocket endpoint and one-time tickets for sockets that
//! cannot send a cookie or a header.

use std::collections::HashMap;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use continuum_sync::PeerOptions;
use serde::Serialize;
use utoipa::ToSchema;

use super::docs::open_doc;
use super::json_response;
use crate::error::{ApiError, Problem};
use crate::extract::{ClientSession, DocPath};
use crate::sockets::SocketOwner;
use crate::state::AppState;
use crate::sync::{DocAccess, Opener, upgrade_socket};
use crate::views::Rfc3339;

/// How long a sync ticket can be used.
pub const TICKET_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// `{ticket, expires_at}`.
#[derive(Serialize, ToSchema, Debug)]
pub struct SyncTicket {
    /// Pass as `?ticket=` when opening a sync socket; single use.
    pub ticket: String,
    /// RFC 3339; 30 seconds after issue.
    #[schema(value_type = String)]
    pub expires_at: Rfc3339,
}

/// A single-use, 30-second ticket that opens one sync socket as this session, for clients that
/// can set neither a cookie nor a header on a WebSocket. The session token never goes in a URL.
#[utoipa::path(post, path = "/v1/sync/ticket", tag = "client",
    security(("session_cookie" = []), ("session_token" = [])),
    responses((status = 201, body = SyncTicket), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 429, body = Problem), (status = 503, body = Problem)))]
pub async fn ticket(State(state): State<AppState>, session: ClientSession) -> Result<Response, ApiError> {
    let now = state.sessions().now();
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    let ticket = URL_SAFE_NO_PAD.encode(bytes);
    let expires_at = now + TICKET_TTL;
    state.tickets().insert(ticket.clone(), session.record.sid, session.record.sid, expires_at, now)?;
    Ok(json_response(StatusCode::CREATED, &SyncTicket { ticket, expires_at: Rfc3339(expires_at) }))
}

/// Open a continuity document as a y-websocket: sync step 1/2, updates and awareness, so the
/// stock `y-websocket` client works unmodified. Add `?acks=1` to receive durability acks
/// (message type 100, see docs/design.md). Opened with the session cookie, the upgrade must
/// come from an allowed origin (403 `origin-not-allowed` otherwise), as a page anywhere can
/// start one.
#[utoipa::path(get, path = "/v1/sync/{scope}/{name}", tag = "client",
    security(("session_cookie" = []), ("session_token" = []), ("api_key" = [])),
    params(("scope" = String, Path, description = "`user:<principal>` or `session:<sid>`"),
           ("name" = String, Path, description = "document name"),
           ("acks" = Option<String>, Query, description = "`1` to receive durability acks"),
           ("ticket" = Option<String>, Query, description = "a ticket from POST /v1/sync/ticket")),
    responses((status = 101), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 429, body = Problem)))]
pub async fn socket(
    State(state): State<AppState>,
    DocPath(key): DocPath,
    DocAccess(opener): DocAccess,
    Query(query): Query<HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    opener.check(&key)?;
    let owner = match &opener {
        Opener::Client(session) => SocketOwner::Session(session.sid),
        Opener::Backend => SocketOwner::Backend,
    };
    let limits = state.sync_limits();
    let slot = state.sockets().acquire(owner, limits.max_sockets_per_session).ok_or_else(|| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-sockets",
            format!("this session already has {} sync sockets open", limits.max_sockets_per_session),
        )
    })?;
    let doc = open_doc(&state, &key, true).await?;
    let acks = query.get("acks").is_some_and(|value| value == "1" || value == "true");
    let session = match &opener {
        Opener::Client(session) => Some(session.sid),
        Opener::Backend => None,
    };
    let peer = doc.connect(PeerOptions { acks, session, ..PeerOptions::default() });
    Ok(upgrade_socket(upgrade, peer, state, slot, "sync"))
}
