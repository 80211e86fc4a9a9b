//! Client plane: anonymous guest sessions, when enabled, rate limited per client address.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use continuum_core::{Device, NewSession};
use governor::clock::{Clock as _, DefaultClock};

use super::client_user_agent;
use crate::error::{ApiError, Problem};
use crate::state::AppState;
use crate::views::{SessionEnvelope, SessionView};

/// Start an anonymous session; the token is set as the session cookie and not returned.
#[utoipa::path(post, path = "/v1/guest", operation_id = "create_guest", tag = "client",
    responses((status = 201, body = SessionEnvelope), (status = 404, body = Problem), (status = 429, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let limiter =
        state.guest().ok_or_else(|| ApiError::not_found("guest sessions are disabled on this server"))?;
    if let Err(not_until) = limiter.check_key(&peer.ip()) {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        return Err(ApiError::rate_limited("too many guest sessions from this address", wait));
    }
    let user_agent = client_user_agent(&headers, state.sessions().limits());
    let ask = NewSession { device: Device { label: None, user_agent }, ..NewSession::default() };
    let (record, token) = state.sessions().create(ask).await?;
    let now = state.sessions().now();
    let cookie = state.cookies().for_session(&token, &record, now);
    let body = Json(SessionEnvelope { session: SessionView::new(&record, now) });
    Ok((StatusCode::CREATED, [(header::SET_COOKIE, cookie)], body).into_response())
}
