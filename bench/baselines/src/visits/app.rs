//! The visits routes on tower-sessions, answering what Continuum's `visits` example answers.
//!
//! A logged-in session holds a [`Visitor`] under `user` (the principal and a public session id,
//! as Continuum's session data has) and a visit count under `visits`. Differences a client can
//! see: the cookie is tower-sessions' `id`, not `session`; an unknown or expired cookie reads as
//! anonymous instead of a 401; `GET /devices` answers 501, as Continuum's sealed mode does,
//! because tower-sessions cannot list a user's sessions.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tower_sessions::{Expiry, Session, SessionManagerLayer, SessionStore};

use crate::AppError;
use crate::routes::IDLE_SECS;

/// The session key that holds the [`Visitor`].
const USER: &str = "user";
/// The session key that holds the visit count.
const VISITS: &str = "visits";

/// Who is logged in: what the handlers read on every request.
#[derive(Debug, Serialize, Deserialize)]
pub struct Visitor {
    /// The user who logged in.
    pub principal: String,
    /// A public id of this login (tower-sessions' own id is the cookie secret, never shown).
    pub sid: String,
}

/// `?user=<principal>`.
#[derive(Debug, Deserialize)]
pub struct Login {
    /// Who logs in.
    pub user: String,
}

/// The app behind tower-sessions' layer on `store`: plain-HTTP cookies (as Continuum's
/// `CookieConfig::dev()`), expiring after Continuum's default idle timeout.
pub fn router<S: SessionStore + Clone>(store: S) -> Router {
    let idle = time::Duration::seconds(i64::try_from(IDLE_SECS).unwrap_or(i64::MAX));
    let layer = SessionManagerLayer::new(store).with_secure(false).with_expiry(Expiry::OnInactivity(idle));
    Router::new()
        .route("/", get(visit))
        .route("/me", get(me))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/devices", get(devices))
        .layer(layer)
}

/// Counts a visit of a logged-in user; tells an anonymous one to log in.
async fn visit(session: Session) -> Result<Json<serde_json::Value>, AppError> {
    let Some(visitor) = session.get::<Visitor>(USER).await? else {
        return Ok(Json(json!({ "principal": null, "hint": "POST /login?user=<name>" })));
    };
    let visits = session.get::<u64>(VISITS).await?.unwrap_or(0) + 1;
    session.insert(VISITS, visits).await?;
    Ok(Json(json!({ "principal": visitor.principal, "sid": visitor.sid, "visits": visits })))
}

/// Who is logged in, without writing anything: one load of the record, no save.
async fn me(session: Session) -> Result<Json<serde_json::Value>, AppError> {
    Ok(match session.get::<Visitor>(USER).await? {
        Some(visitor) => Json(json!({ "principal": visitor.principal, "sid": visitor.sid })),
        None => Json(json!({ "principal": null })),
    })
}

/// Logs in as `?user=`: the old record deleted, a fresh id (and cookie) holding only the visitor.
async fn login(session: Session, Query(login): Query<Login>) -> Result<Json<serde_json::Value>, AppError> {
    session.clear().await;
    session.cycle_id().await?;
    let visitor = Visitor { principal: login.user, sid: public_id() };
    session.insert(USER, &visitor).await?;
    Ok(Json(json!({ "principal": visitor.principal, "sid": visitor.sid })))
}

/// Logs out: the record deleted and the cookie cleared.
async fn logout(session: Session) -> Result<Response, AppError> {
    session.flush().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// tower-sessions keeps no index of a user's sessions, so there are no devices to list.
async fn devices() -> Response {
    let body = json!({ "error": "tower-sessions cannot list a user's sessions" });
    (StatusCode::NOT_IMPLEMENTED, Json(body)).into_response()
}

/// 16 random bytes in hex.
fn public_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
