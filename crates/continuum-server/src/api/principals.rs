//! Backend plane, all sessions of a principal: list them, revoke them.

use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use continuum_core::SessionId;

use crate::error::{ApiError, Problem};
use crate::extract::{BackendAuth, PrincipalPath};
use crate::state::AppState;
use crate::views::{RevokeAllQuery, RevokedCount, SessionList, SessionView};

/// The live sessions of a principal, oldest first.
#[utoipa::path(get, path = "/v1/principals/{principal}/sessions", operation_id = "list_principal_sessions", tag = "backend", security(("api_key" = [])),
    params(("principal" = String, Path, description = "the user id")),
    responses((status = 200, body = SessionList), (status = 400, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    _: BackendAuth,
    PrincipalPath(principal): PrincipalPath,
) -> Result<Response, ApiError> {
    let now = state.sessions().now();
    let sessions = state.sessions().list(&principal).await?;
    let sessions = sessions.iter().map(|record| SessionView::new(record, now)).collect();
    Ok(Json(SessionList { sessions }).into_response())
}

/// Revoke every live session of a principal and sign it out everywhere.
///
/// `except` spares one stored session ("sign out everywhere else"). The principal's epoch is
/// bumped, so every sealed token issued before is refused; `except` cannot spare a sealed token.
#[utoipa::path(delete, path = "/v1/principals/{principal}/sessions", operation_id = "revoke_principal_sessions", tag = "backend", security(("api_key" = [])),
    params(("principal" = String, Path, description = "the user id"), RevokeAllQuery),
    responses((status = 200, body = RevokedCount), (status = 400, body = Problem)))]
pub async fn revoke_all(
    State(state): State<AppState>,
    _: BackendAuth,
    PrincipalPath(principal): PrincipalPath,
    query: Result<Query<RevokeAllQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<RevokedCount>, ApiError> {
    let Query(query) = query.map_err(|error| ApiError::bad_request("invalid-query", error.body_text()))?;
    let except =
        query.except.as_deref().map(SessionId::parse).transpose().map_err(|error| {
            ApiError::bad_request("invalid-session-id", format!("invalid `except`: {error}"))
        })?;
    // The epoch first: if the store fails after it, sealed tokens are already dead and a retry
    // revokes the stored sessions.
    let epoch = state.sealed().sign_out_everywhere(&principal).await?;
    let revoked = state.sessions().revoke_principal(&principal, except.as_ref()).await?;
    Ok(Json(RevokedCount { revoked, epoch }))
}
