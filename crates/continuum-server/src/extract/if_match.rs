//! [`IfMatch`]: the optional `If-Match: "<version>"` precondition of a write.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::error::ApiError;

/// The version named by `If-Match`, `None` when the header is absent or `*`.
#[derive(Debug)]
pub struct IfMatch(pub Option<u64>);

/// Parses an `If-Match` value: one strong entity tag holding a version, or `*`.
pub fn parse(value: &str) -> Result<Option<u64>, String> {
    let value = value.trim();
    if value == "*" {
        return Ok(None);
    }
    let version = value
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .ok_or_else(|| format!("If-Match must be a quoted version such as \"3\", got `{value}`"))?;
    version
        .parse::<u64>()
        .ok()
        .filter(|_| version.bytes().all(|b| b.is_ascii_digit()))
        .map(Some)
        .ok_or_else(|| format!("If-Match must hold a session version (a number), got `{value}`"))
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else { return Ok(IfMatch(None)) };
        let text = value
            .to_str()
            .map_err(|_| ApiError::bad_request("invalid-if-match", "If-Match must be ASCII text"))?;
        parse(text).map(IfMatch).map_err(|detail| ApiError::bad_request("invalid-if-match", detail))
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn parses_strong_version_tags_only() {
        assert_eq!(parse("\"7\""), Ok(Some(7)));
        assert_eq!(parse(" * "), Ok(None));
        for bad in ["7", "W/\"7\"", "\"-1\"", "\"+7\"", "\"\"", "\"99999999999999999999\"", "\"a\""] {
            assert!(parse(bad).is_err(), "{bad} accepted");
        }
    }
}
