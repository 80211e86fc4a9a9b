//! [`AppError`]: what a baseline handler can fail with; answered as a 500 with the cause.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why a baseline request failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// tower-sessions could not load or change the session.
    #[error("session: {0}")]
    Session(#[from] tower_sessions::session::Error),
    /// tower-sessions' store could not be read.
    #[error("session store: {0}")]
    Store(#[from] tower_sessions::session_store::Error),
    /// A Redis command failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// A stored session blob is not a JSON object.
    #[error("stored session: {0}")]
    Json(#[from] serde_json::Error),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}
