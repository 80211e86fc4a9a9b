//! The HTTP routes, one file per route group.

pub mod docs;
pub mod edge;
pub mod edge_replay;
pub mod edge_sync;
pub mod events;
pub mod guest;
pub mod handoff;
pub mod health;
pub mod live;
mod live_cookie;
pub mod me;
pub mod principals;
pub mod sessions;
pub mod sync;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use continuum_core::{SessionRecord, Timestamp};
use serde::Serialize;

use crate::views::SessionView;
use crate::views::session_json::session_envelope_json;

/// `{"session": ...}` with the session's version as its `ETag` and its status as of `now`: the
/// answer of validate, read, patch and `/v1/me`, written by [`session_envelope_json`].
pub(crate) fn session_response(status: StatusCode, record: &SessionRecord, now: Timestamp) -> Response {
    let mut response = match session_envelope_json(&SessionView::new(record, now)) {
        Ok(bytes) => json_bytes_response(status, bytes),
        Err(error) => return crate::error::ApiError::internal(error).into_response(),
    };
    response.headers_mut().insert(header::ETAG, etag(record.version));
    response
}

fn json_bytes_response(status: StatusCode, bytes: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], bytes).into_response()
}

/// A JSON answer serialized into one buffer sized for a session, so that the common answer is
/// written without growing it (axum's `Json` starts at 128 bytes).
pub(crate) fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let mut bytes = Vec::with_capacity(1024);
    match serde_json::to_writer(&mut bytes, body) {
        Ok(()) => json_bytes_response(status, bytes),
        Err(error) => crate::error::ApiError::internal(error).into_response(),
    }
}

/// The client's `User-Agent`, cut to fit the device limit (a character is at most 4 bytes), for
/// sessions a client starts itself (guest, handoff).
pub(crate) fn client_user_agent(headers: &HeaderMap, limits: &continuum_core::Limits) -> Option<String> {
    let text = headers.get(header::USER_AGENT)?.to_str().ok()?;
    Some(text.chars().take(limits.max_user_agent_bytes / 4).collect())
}

/// The entity tag of a version: `"<version>"`.
pub(crate) fn etag(version: u64) -> HeaderValue {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(version).as_bytes();
    let mut tag = Vec::with_capacity(digits.len() + 2);
    tag.push(b'"');
    tag.extend_from_slice(digits);
    tag.push(b'"');
    HeaderValue::from_maybe_shared(axum::body::Bytes::from(tag)).expect("digits and quotes")
}
