//! Authentication of the two planes: an API key for backends, a session token for clients.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use continuum_core::seal::SEALED_PREFIX;
use continuum_core::{SessionRecord, Timestamp, Token};
use continuum_store::SessionError;

use crate::cookie::needs_allowed_origin;
use crate::error::ApiError;
use crate::state::AppState;

/// Proof that the request carries a valid backend API key (`Authorization: Bearer <key>`).
#[derive(Debug)]
pub struct BackendAuth;

impl FromRequestParts<AppState> for BackendAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::unauthorized_backend("this endpoint needs `Authorization: Bearer <api key>`")
        })?;
        let key = value.to_str().ok().and_then(|text| text.strip_prefix("Bearer ")).ok_or_else(|| {
            ApiError::unauthorized_backend("the Authorization header must be `Bearer <api key>`")
        })?;
        if !state.api_keys().verify(key.trim()) {
            return Err(ApiError::unauthorized_backend("the API key is not valid"));
        }
        Ok(BackendAuth)
    }
}

/// The client's own session, from the session cookie or `Authorization: Session <token>`,
/// validated (and touched) like any token. A request that the cookie authenticates and that
/// changes something or opens a socket ([`needs_allowed_origin`]) must come from an allowed
/// origin ([`CookieConfig::check_origin`](crate::cookie::CookieConfig::check_origin)), or it is
/// refused with 403 `origin-not-allowed` before the token is looked at.
#[derive(Debug)]
pub struct ClientSession {
    /// The session.
    pub record: Arc<SessionRecord>,
    /// Whether the token came from the cookie (so logging out must clear it).
    pub from_cookie: bool,
    /// The time it was validated at: the session was live then.
    pub at: Timestamp,
}

impl FromRequestParts<AppState> for ClientSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header_token = match parts.headers.get(header::AUTHORIZATION) {
            Some(value) => {
                Some(value.to_str().ok().and_then(|text| text.strip_prefix("Session ")).ok_or_else(|| {
                    ApiError::invalid_token(
                        "the Authorization header must be `Session <token>` on this endpoint",
                    )
                })?)
            }
            None => None,
        };
        let (text, from_cookie) = match (header_token, state.cookies().read(&parts.headers)) {
            (Some(token), _) => (token, false),
            (None, Some(cookie)) => (cookie, true),
            (None, None) => {
                return Err(ApiError::invalid_token(format!(
                    "sign in first: send the `{}` cookie or `Authorization: Session <token>`",
                    state.cookies().name()
                )));
            }
        };
        // Before the token is even read, so a page elsewhere can neither use nor clear it.
        if from_cookie && needs_allowed_origin(&parts.method, &parts.headers) {
            state.cookies().check_origin(parts)?;
        }
        // A cookie that opens nothing is cleared, so the browser stops sending it.
        let refuse = |error: ApiError| match from_cookie {
            true => error.with_header(header::SET_COOKIE, state.cookies().clear()),
            false => error,
        };
        if text.trim().starts_with(SEALED_PREFIX) {
            return Err(refuse(ApiError::invalid_token(
                "a sealed token is validated by your backend with POST /v1/sessions/validate; the \
                 client plane takes `<sid>.<secret>` session tokens",
            )));
        }
        let token = Token::parse(text.trim())
            .map_err(|error| refuse(ApiError::invalid_token(format!("malformed session token: {error}"))))?;
        let now = state.sessions().now();
        match state.sessions().validate_at(&token, now).await {
            Ok(record) => Ok(ClientSession { record, from_cookie, at: now }),
            Err(SessionError::Rejected(rejection)) => Err(refuse(ApiError::rejected(rejection))),
            Err(other) => Err(other.into()),
        }
    }
}
