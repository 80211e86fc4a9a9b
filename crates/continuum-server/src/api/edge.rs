//! Backend plane, for edge nodes (`continuum edge`): a session's stored record, so that an edge
//! validates tokens itself from its cache, and the touch of a session an edge saw in use, so
//! that it does not idle out at the origin.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use continuum_store::SessionError;

use crate::error::{ApiError, Problem};
use crate::extract::{BackendAuth, SidPath};
use crate::state::AppState;

/// A session's stored record, tombstones included, as the stores keep it: JSON with the SHA-256
/// digest of its secret (never the secret), its status and version. An edge caches it and
/// validates tokens against it with the same policy as the origin; a revoked record stays
/// revoked in every cache.
#[utoipa::path(get, path = "/v1/edge/sessions/{sid}", operation_id = "edge_session_record", tag = "backend",
    security(("api_key" = [])),
    params(("sid" = String, Path, description = "the session id")),
    responses((status = 200, content_type = "application/json", description = "the stored session record"),
              (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn record(
    State(state): State<AppState>,
    _: BackendAuth,
    SidPath(sid): SidPath,
) -> Result<Response, ApiError> {
    let record = match state.sessions().get(&sid).await {
        Ok(record) => record,
        Err(SessionError::NotFound) => return Err(ApiError::not_found("no session with this id")),
        Err(error) => return Err(error.into()),
    };
    let bytes = continuum_store::encode_record(&record).map_err(ApiError::internal)?;
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], bytes)
        .into_response())
}

/// Records activity an edge saw on a session (lazy touch, as a validation here would): 204 if
/// the session is live, 404 if it is not (revoked, expired or unknown).
#[utoipa::path(post, path = "/v1/edge/sessions/{sid}/touch", operation_id = "edge_session_touch", tag = "backend",
    security(("api_key" = [])),
    params(("sid" = String, Path, description = "the session id")),
    responses((status = 204, description = "the session is live; its idle deadline moved if due"),
              (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn touch(
    State(state): State<AppState>,
    _: BackendAuth,
    SidPath(sid): SidPath,
) -> Result<StatusCode, ApiError> {
    match state.sessions().touch_live(&sid).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::not_found("no live session with this id")),
    }
}
