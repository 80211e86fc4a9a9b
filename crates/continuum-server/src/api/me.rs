//! Client plane: the caller's own session and devices, authenticated by its session token.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::session_response;
use crate::error::{ApiError, Problem};
use crate::extract::{ClientSession, SidPath};
use crate::state::AppState;
use crate::views::{DeviceList, SessionEnvelope, SessionView};

/// Who am I: the caller's session.
#[utoipa::path(get, path = "/v1/me", tag = "client", security(("session_cookie" = []), ("session_token" = [])),
    responses((status = 200, body = SessionEnvelope), (status = 401, body = Problem)))]
pub async fn me(session: ClientSession) -> Response {
    session_response(StatusCode::OK, &session.record, session.at)
}

/// Log out: revoke the caller's session and clear its cookie.
#[utoipa::path(delete, path = "/v1/me", tag = "client", security(("session_cookie" = []), ("session_token" = [])),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn logout(State(state): State<AppState>, session: ClientSession) -> Result<Response, ApiError> {
    state.sessions().revoke(&session.record.sid).await?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, state.cookies().clear())]).into_response())
}

/// The caller's devices: every live session of its principal.
#[utoipa::path(get, path = "/v1/me/devices", tag = "client", security(("session_cookie" = []), ("session_token" = [])),
    responses((status = 200, body = DeviceList), (status = 401, body = Problem)))]
pub async fn devices(State(state): State<AppState>, session: ClientSession) -> Result<Response, ApiError> {
    let now = state.sessions().now();
    let sessions = state.sessions().list(&session.record.principal).await?;
    let sessions = sessions.iter().map(|record| SessionView::new(record, now)).collect();
    Ok(Json(DeviceList { current: session.record.sid, sessions }).into_response())
}

/// Sign out one of the caller's devices. Another principal's session is "not found".
#[utoipa::path(delete, path = "/v1/me/devices/{sid}", tag = "client",
    security(("session_cookie" = []), ("session_token" = [])),
    params(("sid" = String, Path, description = "the device's session id")),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)))]
pub async fn revoke_device(
    State(state): State<AppState>,
    SidPath(sid): SidPath,
    session: ClientSession,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found("you have no device with this session id");
    let target = state.sessions().get(&sid).await.map_err(|_| not_found())?;
    if target.principal != session.record.principal {
        return Err(not_found());
    }
    state.sessions().revoke(&sid).await?;
    if sid == session.record.sid && session.from_cookie {
        return Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, state.cookies().clear())]).into_response());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
