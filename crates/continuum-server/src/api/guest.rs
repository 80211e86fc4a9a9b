//! Client plane: anonymous guest sessions, when enabled, rate limited per client address. A
//! browser's request must come from an allowed origin, and a browser already holding a live
//! session is answered 409 rather than silently given another one.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use continuum_core::{Device, NewSession};
use governor::clock::{Clock as _, DefaultClock};

use super::client_user_agent;
use super::live_cookie::{already_signed_in, live_cookie_session};
use crate::error::{ApiError, Problem};
use crate::extract::BrowserOrigin;
use crate::state::AppState;
use crate::views::{SessionEnvelope, SessionView};

/// Start an anonymous session; the token is set as the session cookie and not returned.
/// A request with a `Cookie` or an `Origin` header (a browser's) must come from an allowed
/// origin (403 otherwise); one whose session cookie is live is refused with 409 (sign out
/// first), so a page cannot replace a visitor's session with a guest one.
#[utoipa::path(post, path = "/v1/guest", operation_id = "create_guest", tag = "client",
    responses((status = 201, body = SessionEnvelope), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 429, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    _: BrowserOrigin,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let limiter =
        state.guest().ok_or_else(|| ApiError::not_found("guest sessions are disabled on this server"))?;
    if live_cookie_session(&state, &headers).await?.is_some() {
        return Err(already_signed_in("starting a guest session"));
    }
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
