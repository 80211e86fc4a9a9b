//! The live session a request's cookie holds, for the routes that set a new session cookie
//! (guest, redeem) and must not silently replace a live one.

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use continuum_core::{SessionRecord, Token};
use continuum_store::SessionError;

use crate::error::ApiError;
use crate::state::AppState;

/// The session the request's session cookie opens, if it is live. A cookie that opens nothing
/// (malformed, forged, expired, revoked, sealed) is `None`: a new cookie may replace a dead one.
pub(crate) async fn live_cookie_session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Arc<SessionRecord>>, ApiError> {
    let Some(token) = state.cookies().read(headers).and_then(|text| Token::parse(text.trim()).ok()) else {
        return Ok(None);
    };
    match state.sessions().validate_at(&token, state.sessions().now()).await {
        Ok(record) => Ok(Some(record)),
        Err(SessionError::Rejected(_)) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// 409 `already-signed-in`: the browser's cookie holds a live session that the request would
/// replace; `what` says what it asked for.
pub(crate) fn already_signed_in(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "already-signed-in",
        format!("this browser's session cookie holds a live session; sign out (DELETE /v1/me) before {what}"),
    )
}
