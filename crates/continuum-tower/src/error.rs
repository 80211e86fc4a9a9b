//! [`SessionError`]: why the layer or a [`Session`](crate::Session) operation failed, and its
//! problem+json answer (RFC 9457, the same shape as Continuum's own errors).

use axum::response::{IntoResponse, Response};
use continuum_core::{PolicyError, PrincipalError, SealError};
use http::{StatusCode, header};
use serde_json::json;

use crate::client::ClientError;

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The cookie's token opens no session (malformed, forged, expired, revoked): 401.
    #[error("{0}")]
    InvalidSession(String),
    /// The operation needs a logged-in session and there is none: 401.
    #[error("not logged in")]
    NotLoggedIn,
    /// The principal is not a valid one: 422.
    #[error("invalid principal")]
    InvalidPrincipal(#[source] PrincipalError),
    /// The Continuum server could not be asked or answered with an error: 503 or its 4xx.
    #[error("the Continuum server failed")]
    Remote(#[source] ClientError),
    /// The session could not be sealed (policy, or past the cookie budget): 422.
    #[error("cannot seal the session")]
    Seal(#[source] SealError),
    /// The policy refused the session (timeouts): 422.
    #[error("the session policy refused")]
    Policy(#[source] PolicyError),
    /// The attribute patch failed: 422.
    #[error("cannot apply the attribute patch: {0}")]
    Patch(String),
    /// This mode cannot do it (listing devices of a sealed session): 501.
    #[error("{0}")]
    Unsupported(&'static str),
    /// A handler asked for a [`Session`](crate::Session) on a route without the layer: 500.
    #[error("the ContinuumLayer is not installed on this route")]
    MissingLayer,
}

impl From<ClientError> for SessionError {
    fn from(error: ClientError) -> Self {
        match error {
            ClientError::Rejected(detail) => Self::InvalidSession(detail),
            other => Self::Remote(other),
        }
    }
}

impl SessionError {
    fn status_and_slug(&self) -> (StatusCode, &'static str) {
        match self {
            Self::InvalidSession(_) => (StatusCode::UNAUTHORIZED, "invalid-session"),
            Self::NotLoggedIn => (StatusCode::UNAUTHORIZED, "not-logged-in"),
            Self::InvalidPrincipal(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-principal"),
            Self::Remote(ClientError::Status { status, .. }) if passes_through(*status) => {
                (*status, "session-service-refused")
            }
            Self::Remote(_) => (StatusCode::SERVICE_UNAVAILABLE, "session-service-unavailable"),
            Self::Seal(_) | Self::Policy(_) | Self::Patch(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "cannot-seal")
            }
            Self::Unsupported(_) => (StatusCode::NOT_IMPLEMENTED, "unsupported-in-this-mode"),
            Self::MissingLayer => (StatusCode::INTERNAL_SERVER_ERROR, "missing-layer"),
        }
    }

    /// What the client is told: the cause's message for client errors, a fixed text otherwise
    /// (the cause is logged, not leaked).
    fn detail(&self) -> String {
        match self {
            Self::Remote(ClientError::Status { status, detail }) if passes_through(*status) => detail.clone(),
            Self::Remote(_) => "the session service is unavailable; try again".to_owned(),
            Self::InvalidPrincipal(cause) => cause.to_string(),
            Self::Seal(cause) => cause.to_string(),
            Self::Policy(cause) => cause.to_string(),
            other => other.to_string(),
        }
    }
}

/// Whether the server's refusal is about what the user asked (an invalid principal, too large):
/// a 4xx but 401 and 403, which mean this app's API key is wrong — a misconfiguration the user
/// cannot fix, answered 503 and logged.
fn passes_through(status: StatusCode) -> bool {
    status.is_client_error() && status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN
}

impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        let (status, slug) = self.status_and_slug();
        if status.is_server_error() {
            tracing::error!(error = ?self, "session operation failed");
        }
        let body = json!({
            "type": format!("urn:continuum:problem:{slug}"),
            "title": status.canonical_reason().unwrap_or("error"),
            "status": status.as_u16(),
            "detail": self.detail(),
        });
        (status, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response()
    }
}
