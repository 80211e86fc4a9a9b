//! The HTTP routes, one file per route group.

pub mod guest;
pub mod health;
pub mod me;
pub mod principals;
pub mod sessions;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use continuum_core::SessionRecord;

use crate::state::AppState;
use crate::views::{SessionEnvelope, SessionView};

/// `{"session": ...}` with the session's version as its `ETag`.
pub(crate) fn session_response(state: &AppState, status: StatusCode, record: &SessionRecord) -> Response {
    let view = SessionView::new(record, state.sessions().now());
    let mut response = (status, Json(SessionEnvelope { session: view })).into_response();
    response.headers_mut().insert(header::ETAG, etag(record.version));
    response
}

/// The entity tag of a version: `"<version>"`.
pub(crate) fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits and quotes")
}
