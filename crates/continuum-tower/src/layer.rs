//! [`ContinuumLayer`] and its service: validate the cookie before the handler, hand it a
//! [`Session`], write the cookie change after it.
//!
//! A request without the cookie is anonymous. A request whose cookie opens no session
//! (malformed, forged, expired, revoked) is answered by the layer: 401 problem+json saying why,
//! with a `Set-Cookie` that clears the cookie, so the browser's next request is anonymous.
//! When the Continuum server cannot be reached (remote mode) the answer is 503.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::{IntoResponse as _, Response};
use http::{Request, header};
use tower::{Layer, Service};

use crate::error::SessionError;
use crate::mode::Mode;
use crate::remote::{Remote, RemoteConfig};
use crate::sealed::{Sealed, SealedConfig};
use crate::session::{CookieChange, Session};

/// The tower layer. Cheap to clone; in remote mode with a cache, the event task lives as long
/// as any clone.
#[derive(Clone, Debug)]
pub struct ContinuumLayer {
    mode: Mode,
}

impl ContinuumLayer {
    /// Remote mode: tokens validated by the Continuum server of `config`. Call inside a tokio
    /// runtime: with a cache, it spawns the task that reads the server's events.
    pub fn remote(config: RemoteConfig) -> Self {
        Self { mode: Mode::Remote(Arc::new(Remote::start(config))) }
    }

    /// Sealed mode: tokens opened in process with the key ring of `config`.
    pub fn sealed(config: SealedConfig) -> Self {
        Self { mode: Mode::Sealed(Arc::new(Sealed { config })) }
    }
}

impl<S> Layer<S> for ContinuumLayer {
    type Service = ContinuumService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ContinuumService { mode: self.mode.clone(), inner }
    }
}

/// The service [`ContinuumLayer`] wraps around an app.
#[derive(Clone, Debug)]
pub struct ContinuumService<S> {
    mode: Mode,
    inner: S,
}

impl<S> Service<Request<Body>> for ContinuumService<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        // The clone that was driven to readiness serves this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let mode = self.mode.clone();
        Box::pin(async move {
            let cookie = mode.cookie();
            let token = cookie.read(request.headers()).map(str::to_owned);
            let user_agent =
                request.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let (current, change) = match token {
                None => (None, CookieChange::Keep),
                Some(token) => match mode.validate(&token).await {
                    Ok(valid) => match valid.replacement {
                        Some(new) => (Some((valid.session, new.clone())), CookieChange::Set(new)),
                        None => (Some((valid.session, token)), CookieChange::Keep),
                    },
                    Err(error) => {
                        let clear = matches!(error, SessionError::InvalidSession(_));
                        let mut response = error.into_response();
                        if clear {
                            response.headers_mut().append(header::SET_COOKIE, cookie.clear());
                        }
                        return Ok(response);
                    }
                },
            };
            let session = Session::new(mode.clone(), user_agent, current, change);
            request.extensions_mut().insert(session.clone());
            let mut response = inner.call(request).await?;
            if let Some(value) = session.set_cookie() {
                response.headers_mut().append(header::SET_COOKIE, value);
                // A response that sets a session cookie must never be cached by a proxy.
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
            }
            Ok(response)
        })
    }
}
