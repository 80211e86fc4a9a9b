//! [`app`]: the router of every endpoint over an [`AppState`]; [`app_with`]: the same with
//! routes of a layer above mounted beside them (the demo app).

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::api::{
    docs, edge, edge_replay, edge_sync, events, guest, handoff, health, live, me, principals, sessions, sync,
};
use crate::error::ApiError;
use crate::state::AppState;

/// The HTTP app: the API and the admin page. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` (guest rate limiting needs the peer
/// address).
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// The HTTP app with `mounts` served beside the API, such as [`crate::demo::router`]: under the
/// same fallbacks (problem+json 404 and 405), request metrics and body limit as the API's own
/// routes. A path in `mounts` that the app already routes panics, as in [`Router::merge`].
pub fn app_with(state: AppState, mounts: Router<AppState>) -> Router {
    let body_limit = state.sessions().limits().max_body_bytes;
    Router::new()
        .route("/v1/sessions", post(sessions::create))
        .route("/v1/sessions/validate", post(sessions::validate))
        .route("/v1/sessions/{sid}", get(sessions::get).delete(sessions::revoke))
        .route("/v1/sessions/{sid}/attributes", axum::routing::patch(sessions::patch_attributes))
        .route("/v1/sessions/{sid}/rotate", post(sessions::rotate))
        .route("/v1/principals/{principal}/sessions", get(principals::list).delete(principals::revoke_all))
        .route("/v1/me", get(me::me).delete(me::logout))
        .route("/v1/me/devices", get(me::devices))
        .route("/v1/me/devices/{sid}", axum::routing::delete(me::revoke_device))
        .route("/v1/guest", post(guest::create))
        .route("/v1/me/handoff", post(handoff::offer))
        .route("/v1/handoff/redeem", post(handoff::redeem))
        .route("/v1/sync/ticket", post(sync::ticket))
        .route("/v1/sync/{scope}/{name}", get(sync::socket))
        .route("/v1/docs/{scope}/{name}", get(docs::get).patch(docs::patch))
        .route("/v1/docs/{scope}/{name}/versions", get(docs::list_versions).post(docs::save_version))
        .route("/v1/docs/{scope}/{name}/versions/{id}", get(docs::get_version))
        .route("/v1/docs/{scope}/{name}/versions/{id}/restore", post(docs::restore))
        .route("/v1/events", get(events::stream_events))
        .route("/v1/edge/sessions/{sid}", get(edge::record))
        .route("/v1/edge/sessions/{sid}/touch", post(edge::touch))
        .route("/v1/edge/sync/{scope}/{name}", get(edge_sync::socket))
        .route(
            "/v1/edge/replay",
            post(edge_replay::replay).layer(DefaultBodyLimit::max(edge_replay::MAX_REPLAY_BODY)),
        )
        .route("/v1/live/docs", get(live::list))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/hello", get(health::hello))
        .route("/openapi.json", get(|| async { axum::Json(crate::openapi::document()) }))
        .merge(crate::web::router())
        .merge(mounts)
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "this endpoint does not take this method",
            )
        })
        .layer(crate::no_store::NoStoreLayer)
        .layer(axum::middleware::from_fn_with_state(Arc::clone(state.metrics()), crate::metrics::track))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}
