//! [`ApiError`]: every failure the API reports, rendered as RFC 9457 `application/problem+json`.
//!
//! The detail tells the caller what was wrong with its request; internal causes are logged with
//! their source chain and never sent.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use continuum_core::SealError;
use continuum_core::{LimitError, Rejection};
use continuum_store::{SealedError, SessionError, StoreError};
use serde::Serialize;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error answer: status, a stable problem type, and a detail for the caller.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    detail: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// The problem+json body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:continuum:problem:invalid-token`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP reason phrase.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What was wrong, for the caller.
    pub detail: String,
}

impl ApiError {
    /// An error with this status, problem kind (a short slug) and detail.
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> Self {
        Self { status, kind, detail: detail.into(), headers: Vec::new(), source: None }
    }

    /// 400: the request is malformed.
    pub fn bad_request(kind: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, kind, detail)
    }

    /// 401 on the backend plane: no or a wrong API key.
    pub fn unauthorized_backend(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid-api-key", detail)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    /// 401 for a session token that opens nothing.
    pub fn invalid_token(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid-token", detail)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Session"))
    }

    /// 401 for a rejected token, with the reason.
    pub fn rejected(rejection: Rejection) -> Self {
        Self::invalid_token(rejection.to_string())
    }

    /// 404 with a detail.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    /// 422: well-formed JSON that asks for something invalid.
    pub fn unprocessable(kind: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, kind, detail)
    }

    /// 429 with `Retry-After`: `what` was refused, and for how long.
    pub fn rate_limited(what: &str, wait: std::time::Duration) -> Self {
        let seconds = wait.as_secs().max(1);
        Self::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", format!("{what}; retry in {seconds} s"))
            .with_header(header::RETRY_AFTER, HeaderValue::from(seconds))
    }

    /// 500 for a failure of ours; the cause is logged, not sent. A store that is unavailable
    /// for now (a replicated cluster without quorum, or settling after a node left) is 503
    /// with `Retry-After` instead: the request may be retried as it is.
    pub fn internal(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        let source: Box<dyn std::error::Error + Send + Sync> = Box::new(source);
        let mut error = if let Some(StoreError::Unavailable(_)) = source.downcast_ref::<StoreError>() {
            Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store-unavailable",
                "the session store cannot answer now; retry",
            )
            .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
        } else {
            Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the server failed; the error is logged")
        };
        error.source = Some(source);
        error
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<crate::origin::OriginRefused> for ApiError {
    /// The session cookie from an origin that may not use it: 403 `origin-not-allowed`, naming it.
    fn from(refused: crate::origin::OriginRefused) -> Self {
        Self::new(StatusCode::FORBIDDEN, "origin-not-allowed", refused.to_string())
    }
}

impl From<crate::one_time::IssueError> for ApiError {
    /// The session holds as many one-time codes as it may: 429 until its oldest expires. The
    /// node holds as many as it may: 503, retry shortly.
    fn from(error: crate::one_time::IssueError) -> Self {
        match error {
            crate::one_time::IssueError::IssuerFull { retry_after, .. } => {
                Self::rate_limited(&error.to_string(), retry_after)
            }
            crate::one_time::IssueError::Full { .. } => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", error.to_string())
                    .with_header(header::RETRY_AFTER, HeaderValue::from_static("5"))
            }
        }
    }
}

impl From<LimitError> for ApiError {
    fn from(error: LimitError) -> Self {
        match error {
            LimitError::BodyTooLarge { .. } | LimitError::AttributesTooLarge { .. } => {
                Self::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", error.to_string())
            }
            LimitError::TooDeep { .. } => Self::bad_request("too-deep", error.to_string()),
            LimitError::FieldTooLong { .. } => Self::unprocessable("field-too-long", error.to_string()),
        }
    }
}

impl From<SessionError> for ApiError {
    /// The mapping for operations on a session named by id; token validation maps rejections to
    /// 401 itself with [`ApiError::rejected`].
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::Rejected(rejection) => {
                Self::new(StatusCode::GONE, "session-ended", rejection.to_string())
            }
            SessionError::NotFound => Self::not_found("no session with this id"),
            SessionError::PreconditionFailed { .. } => {
                Self::new(StatusCode::PRECONDITION_FAILED, "version-mismatch", error.to_string())
            }
            SessionError::Policy(policy) => Self::unprocessable("out-of-range", policy.to_string()),
            SessionError::Limit(limit) => limit.into(),
            SessionError::InvalidPatch => Self::unprocessable("invalid-patch", error.to_string()),
            SessionError::Contention => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "contention", error.to_string())
                    .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
            }
            SessionError::Store(store) => Self::internal(store),
        }
    }
}

impl From<SealedError> for ApiError {
    /// A token that does not open or whose session ended is 401 like any token; a session too
    /// large for its cookie is 422.
    fn from(error: SealedError) -> Self {
        match error {
            SealedError::Open(open) => Self::invalid_token(format!("invalid sealed token: {open}")),
            SealedError::Rejected(rejection) => Self::rejected(rejection),
            SealedError::Seal(seal @ SealError::CookieTooLarge { .. }) => {
                Self::unprocessable("sealed-token-too-large", seal.to_string())
            }
            SealedError::Seal(seal) => Self::internal(seal),
            SealedError::Policy(policy) => Self::unprocessable("out-of-range", policy.to_string()),
            SealedError::Limit(limit) => limit.into(),
            SealedError::OtherSession { .. } => Self::unprocessable("token-mismatch", error.to_string()),
            SealedError::Store(store) => Self::internal(store),
        }
    }
}

fn log_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(source) = &self.source {
            tracing::error!(status = self.status.as_u16(), error = %log_chain(source.as_ref()), "request failed");
        }
        let body = Problem {
            kind: format!("urn:continuum:problem:{}", self.kind),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (self.status, bytes).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        for (name, value) in self.headers {
            headers.insert(name, value);
        }
        response
    }
}
