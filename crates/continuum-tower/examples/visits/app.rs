//! The visits app: log in, count visits, list devices, log out — the same routes in every mode.
//! `tests/visits.rs` drives this router over real sockets.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use continuum_tower::{ContinuumLayer, Session, SessionError};
use serde::Deserialize;
use serde_json::json;

/// `?user=<principal>`.
#[derive(Deserialize)]
pub struct Login {
    user: String,
}

/// The app behind `layer`.
pub fn router(layer: ContinuumLayer) -> Router {
    Router::new()
        .route("/", get(visit))
        .route("/me", get(me))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/devices", get(devices))
        .layer(layer)
}

/// Counts a visit of a logged-in user; tells an anonymous one to log in.
async fn visit(session: Session) -> Result<Json<serde_json::Value>, SessionError> {
    let Some(current) = session.data() else {
        return Ok(Json(json!({ "principal": null, "hint": "POST /login?user=<name>" })));
    };
    let visits = current.attributes.get("visits").and_then(|v| v.as_u64()).unwrap_or(0) + 1;
    let updated = session.update(json!({ "visits": visits })).await?;
    Ok(Json(json!({ "principal": updated.principal, "sid": updated.sid, "visits": visits })))
}

/// Who is logged in, without writing anything (a pure read: remote mode may answer it from its
/// cache).
async fn me(session: Session) -> Json<serde_json::Value> {
    match session.data() {
        Some(data) => Json(json!({ "principal": data.principal, "sid": data.sid })),
        None => Json(json!({ "principal": null })),
    }
}

/// Logs in as `?user=`: a fresh session (and cookie); any previous one is revoked.
async fn login(
    session: Session,
    Query(login): Query<Login>,
) -> Result<Json<serde_json::Value>, SessionError> {
    let data = session.login(&login.user).await?;
    Ok(Json(json!({ "principal": data.principal, "sid": data.sid })))
}

/// Logs out: the session revoked (remote) and the cookie cleared.
async fn logout(session: Session) -> Result<Response, SessionError> {
    session.logout().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The user's live sessions (remote mode; sealed mode answers 501).
async fn devices(session: Session) -> Result<Json<serde_json::Value>, SessionError> {
    let current = session.data().ok_or(SessionError::NotLoggedIn)?;
    let devices = session.devices().await?;
    let list: Vec<_> = devices
        .iter()
        .map(|d| json!({ "sid": d.sid, "device": d.device, "created_at": d.created_at, "current": d.sid == current.sid }))
        .collect();
    Ok(Json(json!({ "devices": list })))
}
