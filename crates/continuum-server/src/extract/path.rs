//! Path parameters parsed strictly: session ids and principals.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use continuum_core::{Principal, SessionId};

use crate::error::ApiError;

/// A `{sid}` path segment that is a well-formed session id.
#[derive(Debug)]
pub struct SidPath(pub SessionId);

impl<S: Send + Sync> FromRequestParts<S> for SidPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|error| ApiError::bad_request("invalid-path", error.body_text()))?;
        SessionId::parse(&text).map(SidPath).map_err(|error| {
            ApiError::bad_request("invalid-session-id", format!("invalid session id: {error}"))
        })
    }
}

/// A `{principal}` path segment that is a valid principal to look up (anonymous ones included,
/// in NFC, or the exact text of one stored before the present rules: see [`Principal::lookup`]).
#[derive(Debug)]
pub struct PrincipalPath(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for PrincipalPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|error| ApiError::bad_request("invalid-path", error.body_text()))?;
        Principal::lookup(&text).map(PrincipalPath).map_err(|error| {
            ApiError::bad_request("invalid-principal", format!("invalid principal: {error}"))
        })
    }
}
