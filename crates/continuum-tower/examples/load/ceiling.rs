//! The ceiling: the same two routes with no session layer. The cookie holds the user in clear and
//! `/me` echoes it, so the load's check passes with no session work at all: HTTP, routing and
//! JSON only.

use axum::Json;
use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

/// `?user=<principal>`.
#[derive(Deserialize)]
struct Login {
    user: String,
}

/// `POST /login?user=` and `GET /me`, without a layer.
pub fn router() -> Router {
    Router::new().route("/login", post(login)).route("/me", get(me))
}

async fn login(Query(login): Query<Login>) -> impl IntoResponse {
    let cookie = format!("session={}; Path=/; HttpOnly; SameSite=Lax", login.user);
    ([(header::SET_COOKIE, cookie)], Json(json!({ "principal": login.user, "sid": null })))
}

async fn me(headers: HeaderMap) -> Json<serde_json::Value> {
    let user = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("session="));
    Json(json!({ "principal": user, "sid": null }))
}
