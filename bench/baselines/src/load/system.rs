//! [`System`]: one server under test, and how its API spells the operations the comparison
//! measures. Continuum is driven through its backend plane (API key, token in the body); the
//! baselines through their cookie routes (see `crate::routes`).

use std::fmt;
use std::net::SocketAddr;

use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, HOST, SET_COOKIE};
use http::{HeaderValue, Method, Request, Response};
use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::{Map, Value, json};

use crate::routes;

/// An operation the closed loop measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `GET /hello`: the HTTP floor, no session work.
    Hello,
    /// Validate a session: Continuum's `POST /v1/sessions/validate`, the baselines' `GET /me`.
    Validate,
    /// Change one key of a session without a precondition: Continuum's merge patch
    /// `PATCH /v1/sessions/{sid}/attributes`, the baselines' read-modify-write.
    Patch,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Hello => "hello",
            Self::Validate => "validate",
            Self::Patch => "patch",
        })
    }
}

/// Which API a system speaks.
#[derive(Clone, Debug)]
pub enum Api {
    /// Continuum's backend plane with this `Authorization: Bearer` value.
    Continuum(HeaderValue),
    /// The baselines' cookie routes.
    Cookie,
}

/// A logged-in session, as the client holds it.
#[derive(Clone, Debug)]
pub enum Handle {
    /// A Continuum session: its id (for patch and read-back) and the prebuilt validate body.
    Continuum {
        /// The public session id.
        sid: String,
        /// `{"token": "<sid>.<secret>"}`, built once so that measuring spends no time on JSON.
        validate_body: Bytes,
    },
    /// A baseline session: the `Cookie` header value to send.
    Cookie(HeaderValue),
}

/// A server under test.
#[derive(Clone, Debug)]
pub struct System {
    /// Its name in the report.
    pub name: String,
    /// Its loopback address.
    pub addr: SocketAddr,
    /// Its API.
    pub api: Api,
}

impl System {
    fn request(
        &self,
        method: Method,
        path: &str,
        handle: Option<&Handle>,
        body: Option<Bytes>,
    ) -> Request<Full<Bytes>> {
        let mut builder = Request::builder().method(method).uri(path).header(HOST, self.addr.to_string());
        if let Api::Continuum(key) = &self.api {
            builder = builder.header(AUTHORIZATION, key.clone());
        }
        if let Some(Handle::Cookie(cookie)) = handle {
            builder = builder.header(COOKIE, cookie.clone());
        }
        if body.is_some() {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        builder.body(Full::new(body.unwrap_or_default())).expect("paths and headers are valid")
    }

    /// The request that logs `user` in (creates a session).
    pub fn login(&self, user: &str) -> Request<Full<Bytes>> {
        let (path, body) = match self.api {
            Api::Continuum(_) => {
                ("/v1/sessions", json!({ "principal": user, "device": { "label": "compare" } }))
            }
            Api::Cookie => (routes::LOGIN, json!({ "user": user })),
        };
        self.request(Method::POST, path, None, Some(Bytes::from(body.to_string())))
    }

    /// The session a successful login answer carries, or `None` if it carries none.
    pub fn handle_from(&self, response: &Response<Bytes>) -> Option<Handle> {
        if !response.status().is_success() {
            return None;
        }
        match self.api {
            Api::Continuum(_) => {
                let body: Value = serde_json::from_slice(response.body()).ok()?;
                let token = body["token"].as_str()?;
                let sid = body["session"]["sid"].as_str()?.to_owned();
                let validate_body = Bytes::from(json!({ "token": token }).to_string());
                Some(Handle::Continuum { sid, validate_body })
            }
            Api::Cookie => {
                let set_cookie = response.headers().get(SET_COOKIE)?.to_str().ok()?;
                let pair = set_cookie.split(';').next()?.trim();
                Some(Handle::Cookie(HeaderValue::from_str(pair).ok()?))
            }
        }
    }

    /// The request of `operation` on `handle`; `patch` is the JSON object a patch sets.
    pub fn operation(
        &self,
        operation: Operation,
        handle: &Handle,
        patch: &Map<String, Value>,
    ) -> Request<Full<Bytes>> {
        match (operation, handle) {
            (Operation::Hello, _) => self.request(Method::GET, routes::HELLO, None, None),
            (Operation::Validate, Handle::Continuum { validate_body, .. }) => {
                self.request(Method::POST, "/v1/sessions/validate", None, Some(validate_body.clone()))
            }
            (Operation::Validate, Handle::Cookie(_)) => {
                self.request(Method::GET, routes::ME, Some(handle), None)
            }
            (Operation::Patch, _) => self.patch(handle, patch),
        }
    }

    /// A patch setting the members of `patch` on `handle`'s session (no `If-Match`).
    pub fn patch(&self, handle: &Handle, patch: &Map<String, Value>) -> Request<Full<Bytes>> {
        let body = Some(Bytes::from(serde_json::to_vec(patch).expect("a JSON map serializes")));
        match handle {
            Handle::Continuum { sid, .. } => {
                let mut request =
                    self.request(Method::PATCH, &format!("/v1/sessions/{sid}/attributes"), None, body);
                request
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/merge-patch+json"));
                request
            }
            Handle::Cookie(_) => self.request(Method::PATCH, routes::ATTRIBUTES, Some(handle), body),
        }
    }

    /// The request that reads every key of `handle`'s session back.
    pub fn read_back(&self, handle: &Handle) -> Request<Full<Bytes>> {
        match handle {
            Handle::Continuum { sid, .. } => {
                self.request(Method::GET, &format!("/v1/sessions/{sid}"), None, None)
            }
            Handle::Cookie(_) => self.request(Method::GET, routes::ATTRIBUTES, Some(handle), None),
        }
    }

    /// The session's keys from a read-back answer.
    pub fn keys_from(&self, response: &Response<Bytes>) -> Option<Map<String, Value>> {
        if !response.status().is_success() {
            return None;
        }
        let body: Value = serde_json::from_slice(response.body()).ok()?;
        let keys = match self.api {
            Api::Continuum(_) => body.get("attributes").or_else(|| body.get("session")?.get("attributes"))?,
            Api::Cookie => &body,
        };
        keys.as_object().cloned()
    }
}
