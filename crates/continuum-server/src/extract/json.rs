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

/// A JSON body that may be left out: `None` for an empty body (whatever `Content-Type` says,
/// since clients send one on every request) or `null`; otherwise what [`JsonBody`] takes, with
/// its errors.
#[derive(Debug)]
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<T: DeserializeOwned> FromRequest<AppState> for OptionalJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limits = state.sessions().limits();
        let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let is_json = content_type.is_some_and(is_json_media_type);
        let limit = limits.max_body_bytes;
        let body = read_body(request.into_body(), limit)
            .await
            .map_err(|_| ApiError::from(LimitError::BodyTooLarge { limit }))?;
        if body.is_empty() {
            return Ok(Self(None));
        }
        if !is_json {
            return Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "the body must be JSON: send `Content-Type: application/json`",
            ));
        }
        // JSON `null` is no body too, as the OpenAPI document's `oneOf: [null, T]` says.
        parse::<Option<T>>(&body, limits).map(Self)
    }
}

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
        let body = read_body(request.into_body(), limit)
            .await
            .map_err(|_| ApiError::from(LimitError::BodyTooLarge { limit }))?;
        parse(&body, limits).map(JsonBody)
    }
}

/// The whole body, at most `limit` bytes. A body that arrives as one piece, as a small request
/// does, is taken as it is; `axum::body::to_bytes` would first collect it into a list (one more
/// allocation on every validation).
async fn read_body(body: axum::body::Body, limit: usize) -> Result<Bytes, axum::Error> {
    use http_body_util::BodyExt as _;
    let mut body = http_body_util::Limited::new(body, limit);
    let mut whole = Bytes::new();
    let mut pieces: Option<Vec<u8>> = None;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame.map_err(axum::Error::new)?.into_data() else { continue };
        match &mut pieces {
            None if whole.is_empty() => whole = data,
            None => {
                let mut joined = Vec::with_capacity(whole.len() + data.len());
                joined.extend_from_slice(&whole);
                joined.extend_from_slice(&data);
                pieces = Some(joined);
            }
            Some(joined) => joined.extend_from_slice(&data),
        }
    }
    Ok(pieces.map_or(whole, Bytes::from))
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
    use axum::body::{Body, Bytes};

    use super::{is_json_media_type, read_body};

    fn streamed(pieces: &[&'static str]) -> Body {
        let pieces: Vec<Result<Bytes, std::io::Error>> =
            pieces.iter().map(|piece| Ok(Bytes::from_static(piece.as_bytes()))).collect();
        Body::from_stream(futures_util::stream::iter(pieces))
    }

    #[tokio::test]
    async fn a_body_is_read_whole_in_one_piece_or_many_and_not_past_its_limit() {
        assert_eq!(read_body(Body::from("{\"token\":1}"), 64).await.unwrap(), "{\"token\":1}");
        assert_eq!(read_body(Body::empty(), 64).await.unwrap(), "");
        let many = read_body(streamed(&["{\"a\"", "", ":", "[1,2]", "}"]), 64).await.unwrap();
        assert_eq!(many, "{\"a\":[1,2]}");
        assert!(
            read_body(streamed(&["12345", "67890", "1"]), 10).await.is_err(),
            "11 bytes over a limit of 10"
        );
        assert_eq!(read_body(streamed(&["12345", "67890"]), 10).await.unwrap(), "1234567890");
        assert!(read_body(Body::from("x".repeat(11)), 10).await.is_err());
    }

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
