//! `Cache-Control: no-store` on every answer that can carry a session, a token or a code, so
//! no browser or shared cache keeps one: [`is_private`] says which paths, [`no_store`] is the
//! middleware.
//!
//! The rule is by path, errors included, so a route added under these prefixes is covered
//! without anyone remembering to: all of `/v1/sessions*`, `/v1/me*`, `/v1/principals/*`,
//! `/v1/guest`, `/v1/handoff*` and `/v1/sync/ticket`.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// Whether answers on `path` may carry a session, a token or a code.
pub fn is_private(path: &str) -> bool {
    let under =
        |prefix: &str| path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    under("/v1/sessions")
        || under("/v1/me")
        || under("/v1/principals")
        || under("/v1/guest")
        || under("/v1/handoff")
        || path == "/v1/sync/ticket"
}

/// Middleware: adds `Cache-Control: no-store` to the answer when [`is_private`] says so of the
/// request's path.
pub async fn no_store(request: Request, next: Next) -> Response {
    let private = is_private(request.uri().path());
    let mut response = next.run(request).await;
    if private {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_with_sessions_tokens_or_codes_are_private() {
        for path in [
            "/v1/sessions",
            "/v1/sessions/validate",
            "/v1/sessions/abc",
            "/v1/sessions/abc/attributes",
            "/v1/sessions/abc/rotate",
            "/v1/principals/alice/sessions",
            "/v1/me",
            "/v1/me/devices",
            "/v1/me/devices/abc",
            "/v1/me/handoff",
            "/v1/guest",
            "/v1/handoff/redeem",
            "/v1/sync/ticket",
        ] {
            assert!(is_private(path), "{path}");
        }
        for path in
            ["/", "/admin", "/metrics", "/v1/meta", "/v1/sessionsx", "/v1/sync/user:a/doc", "/v1/docs/a/b"]
        {
            assert!(!is_private(path), "{path}");
        }
    }
}
