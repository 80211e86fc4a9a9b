//! [`JsonBody`]: a JSON request body within the size and depth limits, with clear errors.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use continuum_core::LimitError;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body: `application/json` (or any `+json` type, such as `application/merge-patch+json`),
/// at most `max_body_bytes`, nested at most `max_json_depth`, and of the shape `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limits = state.sessions().limits();
        let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let is_json = content_type.is_some_and(is_json_media_type);
        if !is_json {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "the body must be JSON: send `Content-Type: application/json`",
            ));
        }
        let limit = limits.max_body_bytes;
        let body = axum::body::to_bytes(request.into_body(), limit)
            .await
            .map_err(|_| ApiError::from(LimitError::BodyTooLarge { limit }))?;
        parse(&body, limits).map(JsonBody)
    }
}

/// `application/json` or `application/<anything>+json`, parameters and case ignored.
fn is_json_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else { return false };
    let subtype_is_json = subtype.eq_ignore_ascii_case("json")
        || subtype.len() > 5 && subtype[subtype.len() - 5..].eq_ignore_ascii_case("+json");
    kind.eq_ignore_ascii_case("application") && subtype_is_json
}

fn parse<T: DeserializeOwned>(body: &Bytes, limits: &continuum_core::Limits) -> Result<T, ApiError> {
    limits.check_depth(body)?;
    serde_json::from_slice(body).map_err(|error| {
        use serde_json::error::Category;
        match error.classify() {
            Category::Data => {
                ApiError::unprocessable("invalid-body", format!("invalid request body: {error}"))
            }
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::bad_request("invalid-json", format!("the body is not valid JSON: {error}"))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::is_json_media_type;

    #[test]
    fn recognises_json_media_types() {
        for yes in ["application/json", "Application/JSON; charset=utf-8", "application/merge-patch+json"] {
            assert!(is_json_media_type(yes), "{yes}");
        }
        for no in ["text/plain", "application/jsonx", "application/+json", "json", "", "text/json"] {
            assert!(!is_json_media_type(no), "{no}");
        }
    }
}
