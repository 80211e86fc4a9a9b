//! `Cache-Control: no-store` on every answer that can carry a session, a token or a code, so
//! no browser or shared cache keeps one: [`is_private`] says which paths, [`NoStoreLayer`] is
//! the layer.
//!
//! The rule is by path, errors included, so a route added under these prefixes is covered
//! without anyone remembering to: all of `/v1/sessions*`, `/v1/me*`, `/v1/principals/*`,
//! `/v1/guest`, `/v1/handoff*` and `/v1/sync/ticket`.

use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use futures_util::FutureExt as _;
use futures_util::future::Map;
use tower::{Layer, Service};

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

/// The layer adding `Cache-Control: no-store` to the answers of [`is_private`] paths. A plain
/// tower layer rather than `axum::middleware::from_fn`, whose boxed future and service clone
/// every request would pay.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoStoreLayer;

impl<S> Layer<S> for NoStoreLayer {
    type Service = NoStore<S>;

    fn layer(&self, inner: S) -> Self::Service {
        NoStore { inner }
    }
}

/// The service of [`NoStoreLayer`].
#[derive(Clone, Debug)]
pub struct NoStore<S> {
    inner: S,
}

/// What the answer becomes: marked private, or left as it is.
type Finish<E> = fn(Result<Response, E>) -> Result<Response, E>;

fn mark_private<E>(answer: Result<Response, E>) -> Result<Response, E> {
    answer.map(|mut response| {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    })
}

fn unchanged<E>(answer: Result<Response, E>) -> Result<Response, E> {
    answer
}

impl<S> Service<Request> for NoStore<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Map<S::Future, Finish<S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let finish: Finish<S::Error> =
            if is_private(request.uri().path()) { mark_private } else { unchanged };
        self.inner.call(request).map(finish)
    }
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
