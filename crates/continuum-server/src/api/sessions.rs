//! Backend plane, one session by id: create, validate (the hot path), read, patch attributes,
//! rotate, revoke.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Response;
use continuum_core::{AnyToken, Device, NewSession, Principal};
use continuum_store::SessionError;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{etag, json_response, session_response};
use crate::error::{ApiError, Problem};
use crate::extract::{BackendAuth, IfMatch, JsonBody, OptionalJsonBody, SidPath};
use crate::state::AppState;
use crate::views::{
    CreateSession, IssuedSession, SessionEnvelope, SessionView, ValidateRequest, ValidatedSession,
};

/// Create a session for a principal (or an anonymous one).
///
/// With `"sealed": true` the token is a sealed one carrying the session, and nothing is stored.
/// A stored session past the principal's session cap signs out its oldest sessions.
#[utoipa::path(post, path = "/v1/sessions", operation_id = "create_session", tag = "backend", security(("api_key" = [])),
    request_body = CreateSession,
    responses((status = 201, body = IssuedSession), (status = 401, body = Problem), (status = 413, body = Problem),
              (status = 422, body = Problem)))]
pub async fn create(
    State(state): State<AppState>,
    _: BackendAuth,
    JsonBody(body): JsonBody<CreateSession>,
) -> Result<Response, ApiError> {
    let principal = body
        .principal
        .as_deref()
        .map(Principal::parse)
        .transpose()
        .map_err(|error| ApiError::unprocessable("invalid-principal", error.to_string()))?;
    let device = body.device.unwrap_or_default();
    let ask = NewSession {
        principal,
        device: Device { label: device.label, user_agent: device.user_agent },
        attributes: body.attributes.unwrap_or_default(),
        idle_timeout_secs: body.idle_timeout_secs,
        absolute_timeout_secs: body.absolute_timeout_secs,
    };
    if body.sealed == Some(true) {
        let (session, token) = state.sealed().create(ask).await?;
        let view = SessionView::sealed(&session, state.sessions().now());
        return Ok(json_response(StatusCode::CREATED, &IssuedSession { token, session: view }));
    }
    let (record, token) = state.sessions().create(ask).await?;
    crate::principal_cap::enforce(&state, &record).await;
    let view = SessionView::new(&record, state.sessions().now());
    let mut response =
        json_response(StatusCode::CREATED, &IssuedSession { token: token.to_string(), session: view });
    response.headers_mut().insert(header::ETAG, etag(record.version));
    Ok(response)
}

/// Validate a token: the session it opens, touched; 401 if it opens none.
///
/// Takes a stored (`<sid>.<secret>`) or a sealed (`cs~…`) token. A sealed token whose touch was
/// due comes back re-sealed in `token`.
#[utoipa::path(post, path = "/v1/sessions/validate", tag = "backend", security(("api_key" = [])),
    request_body = ValidateRequest,
    responses((status = 200, body = ValidatedSession), (status = 401, body = Problem)))]
pub async fn validate(
    State(state): State<AppState>,
    _: BackendAuth,
    JsonBody(body): JsonBody<ValidateRequest>,
) -> Result<Response, ApiError> {
    let parsed = AnyToken::parse(&body.token)
        .map_err(|error| ApiError::invalid_token(format!("malformed session token: {error}")))?;
    let token = match parsed {
        AnyToken::Stored(token) => token,
        AnyToken::Sealed(text) => {
            let validated = state.sealed().validate(text).await?;
            let session = SessionView::sealed(&validated.session, state.sessions().now());
            let body = ValidatedSession { session, token: validated.resealed };
            return Ok(json_response(StatusCode::OK, &body));
        }
    };
    let now = state.sessions().now();
    match state.sessions().validate_at(&token, now).await {
        Ok(record) => Ok(session_response(StatusCode::OK, &record, now)),
        Err(SessionError::Rejected(rejection)) => Err(ApiError::rejected(rejection)),
        Err(other) => Err(other.into()),
    }
}

/// Read a session by id, whatever its state.
#[utoipa::path(get, path = "/v1/sessions/{sid}", operation_id = "get_session", tag = "backend", security(("api_key" = [])),
    params(("sid" = String, Path, description = "session id")),
    responses((status = 200, body = SessionEnvelope), (status = 404, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    _: BackendAuth,
    SidPath(sid): SidPath,
) -> Result<Response, ApiError> {
    let record = state.sessions().get(&sid).await?;
    Ok(session_response(StatusCode::OK, &record, state.sessions().now()))
}

/// Apply a JSON merge patch (RFC 7396) to the attributes, atomically; `If-Match: "<version>"`
/// makes it conditional.
#[utoipa::path(patch, path = "/v1/sessions/{sid}/attributes", tag = "backend", security(("api_key" = [])),
    params(("sid" = String, Path, description = "session id"),
           ("If-Match" = Option<String>, Header, description = "the expected version, quoted")),
    request_body(content = Object, content_type = "application/merge-patch+json"),
    responses((status = 200, body = SessionEnvelope), (status = 404, body = Problem),
              (status = 410, body = Problem), (status = 412, body = Problem)))]
pub async fn patch_attributes(
    State(state): State<AppState>,
    _: BackendAuth,
    SidPath(sid): SidPath,
    IfMatch(if_match): IfMatch,
    JsonBody(patch): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let record = state.sessions().patch_attributes(&sid, &patch, if_match).await?;
    Ok(session_response(StatusCode::OK, &record, state.sessions().now()))
}

/// Issue a new secret for the session; the old one works for a short grace window.
#[utoipa::path(post, path = "/v1/sessions/{sid}/rotate", tag = "backend", security(("api_key" = [])),
    params(("sid" = String, Path, description = "session id")),
    responses((status = 200, body = IssuedSession), (status = 404, body = Problem), (status = 410, body = Problem)))]
pub async fn rotate(
    State(state): State<AppState>,
    _: BackendAuth,
    SidPath(sid): SidPath,
) -> Result<Response, ApiError> {
    let (record, token) = state.sessions().rotate(&sid).await?;
    let view = SessionView::new(&record, state.sessions().now());
    let mut response =
        json_response(StatusCode::OK, &IssuedSession { token: token.to_string(), session: view });
    response.headers_mut().insert(header::ETAG, etag(record.version));
    Ok(response)
}

/// `DELETE /v1/sessions/{sid}` with a body: the sealed token of the session to revoke.
#[derive(Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct RevokeSealed {
    /// The session's sealed token (`cs~…`): it says whose the session is and until when the deny
    /// entry must be kept, which nothing stored does.
    pub token: String,
}

/// Revoke a session. Revoking a revoked session is a no-op. A sealed session is revoked by
/// sending its token in the body (`{"token": "cs~…"}`): a deny entry is stored under its sid
/// until the token's absolute expiry, and the token and every copy are refused from then on
/// (on other nodes within the epoch cache's TTL). Without a body, a sid that names no stored
/// session is 404.
#[utoipa::path(delete, path = "/v1/sessions/{sid}", operation_id = "revoke_session", tag = "backend", security(("api_key" = [])),
    params(("sid" = String, Path, description = "session id")),
    request_body(content = Option<RevokeSealed>, description = "only to revoke a sealed session: its token"),
    responses((status = 204), (status = 400, body = Problem), (status = 401, body = Problem), (status = 404, body = Problem),
              (status = 415, body = Problem), (status = 422, body = Problem)))]
pub async fn revoke(
    State(state): State<AppState>,
    _: BackendAuth,
    SidPath(sid): SidPath,
    OptionalJsonBody(body): OptionalJsonBody<RevokeSealed>,
) -> Result<StatusCode, ApiError> {
    match body {
        Some(RevokeSealed { token }) => {
            state.sealed().revoke(&sid, token.trim()).await?;
        }
        None => {
            state.sessions().revoke(&sid).await?;
        }
    }
    Ok(StatusCode::NO_CONTENT)
}
