//! [`ContinuumClient`]: the backend-plane calls the remote mode makes, over hyper-util's pooled
//! HTTP/1 client with the API key.

use http::{Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::data::SessionData;

/// Why a call to the Continuum server failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server's URL with this path is not a URI.
    #[error("invalid Continuum URL")]
    Url(#[source] http::Error),
    /// No HTTP exchange (connection refused, reset…).
    #[error("cannot reach the Continuum server")]
    Transport(#[source] hyper_util::client::legacy::Error),
    /// The answer's body could not be read.
    #[error("the Continuum server's answer was cut")]
    Body(#[source] hyper::Error),
    /// The answer was not the JSON expected.
    #[error("the Continuum server's answer was not understood")]
    Json(#[source] serde_json::Error),
    /// The token opens no session (401): the server's `detail`.
    #[error("{0}")]
    Rejected(String),
    /// Any other error status, with the server's `detail`.
    #[error("the Continuum server answered {status}: {detail}")]
    Status {
        /// The status.
        status: StatusCode,
        /// The problem's detail, or the body.
        detail: String,
    },
}

/// A validated token: the session and, for a sealed token whose touch was due, its replacement.
#[derive(Debug, Deserialize)]
pub struct Validated {
    /// The session.
    pub session: SessionData,
    /// The re-sealed token to set as the cookie, if any.
    pub token: Option<String>,
}

/// A newly issued session.
#[derive(Debug, Deserialize)]
pub struct Issued {
    /// Its token, to set as the cookie.
    pub token: String,
    /// The session.
    pub session: SessionData,
}

#[derive(Deserialize)]
struct Envelope {
    session: SessionData,
}

#[derive(Deserialize)]
struct List {
    sessions: Vec<SessionData>,
}

/// A client of one Continuum server's backend plane. Cheap to clone (one connection pool).
#[derive(Clone, Debug)]
pub struct ContinuumClient {
    base: String,
    authorization: String,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl ContinuumClient {
    /// A client of the server at `base` (`http://host:port`, no trailing slash) with `api_key`.
    /// Plain HTTP only: run it on loopback or a private network (see `docs/design.md`).
    pub fn new(base: impl Into<String>, api_key: &str) -> Self {
        let base = base.into().trim_end_matches('/').to_owned();
        let http = Client::builder(TokioExecutor::new()).build_http();
        Self { base, authorization: format!("Bearer {api_key}"), http }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Bytes), ClientError> {
        let request = self.request(method, path, body)?;
        let response = self.http.request(request).await.map_err(ClientError::Transport)?;
        let status = response.status();
        let body = response.into_body().collect().await.map_err(ClientError::Body)?.to_bytes();
        Ok((status, body))
    }

    fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Request<Full<Bytes>>, ClientError> {
        let uri: Uri = format!("{}{path}", self.base)
            .parse()
            .map_err(|e: http::uri::InvalidUri| ClientError::Url(e.into()))?;
        let content_type =
            if method == Method::PATCH { "application/merge-patch+json" } else { "application/json" };
        let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, &self.authorization)
            .header(header::CONTENT_TYPE, content_type)
            .body(Full::new(bytes))
            .map_err(ClientError::Url)
    }

    async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<T, ClientError> {
        let (status, bytes) = self.send(method, path, body).await?;
        check(status, &bytes)?;
        serde_json::from_slice(&bytes).map_err(ClientError::Json)
    }

    /// `POST /v1/sessions/validate`.
    pub async fn validate(&self, token: &str) -> Result<Validated, ClientError> {
        self.call(Method::POST, "/v1/sessions/validate", Some(json!({ "token": token }))).await
    }

    /// `POST /v1/sessions` for `principal` on a device named by its `user_agent`.
    pub async fn create(
        &self,
        principal: &str,
        user_agent: Option<&str>,
        sealed: bool,
    ) -> Result<Issued, ClientError> {
        let mut body = json!({ "principal": principal, "device": { "user_agent": user_agent } });
        if sealed {
            body["sealed"] = Value::Bool(true);
        }
        self.call(Method::POST, "/v1/sessions", Some(body)).await
    }

    /// `POST /v1/sessions` for `principal` with these attributes and timeouts.
    pub async fn create_with(
        &self,
        principal: &str,
        attributes: Value,
        idle_timeout_secs: u64,
        absolute_timeout_secs: u64,
    ) -> Result<Issued, ClientError> {
        let body = json!({ "principal": principal, "attributes": attributes,
            "idle_timeout_secs": idle_timeout_secs, "absolute_timeout_secs": absolute_timeout_secs });
        self.call(Method::POST, "/v1/sessions", Some(body)).await
    }

    /// `DELETE /v1/principals/{principal}/sessions?except=<sid>`: signs `principal` out
    /// everywhere but `except`.
    pub async fn revoke_principal(&self, principal: &str, except: Option<&str>) -> Result<(), ClientError> {
        let mut path = format!("/v1/principals/{}/sessions", encode_path(principal));
        if let Some(sid) = except {
            path.push_str(&format!("?except={}", encode_path(sid)));
        }
        let (status, bytes) = self.send(Method::DELETE, &path, None).await?;
        check(status, &bytes)
    }

    /// `DELETE /v1/sessions/{sid}` (revoking a revoked session is a no-op).
    pub async fn revoke(&self, sid: &str) -> Result<(), ClientError> {
        let (status, bytes) = self.send(Method::DELETE, &format!("/v1/sessions/{sid}"), None).await?;
        check(status, &bytes)
    }

    /// `PATCH /v1/sessions/{sid}/attributes` with a JSON merge patch.
    pub async fn patch_attributes(&self, sid: &str, patch: Value) -> Result<SessionData, ClientError> {
        let envelope: Envelope =
            self.call(Method::PATCH, &format!("/v1/sessions/{sid}/attributes"), Some(patch)).await?;
        Ok(envelope.session)
    }

    /// `GET /v1/principals/{principal}/sessions`: the live sessions, oldest first.
    pub async fn sessions_of(&self, principal: &str) -> Result<Vec<SessionData>, ClientError> {
        let path = format!("/v1/principals/{}/sessions", encode_path(principal));
        Ok(self.call::<List>(Method::GET, &path, None).await?.sessions)
    }

    /// `GET /v1/events`, resuming after `last_event_id`: the streaming body once the headers are in.
    pub async fn events(&self, last_event_id: Option<&str>) -> Result<Incoming, ClientError> {
        let mut request = self.request(Method::GET, "/v1/events", None)?;
        if let Some(id) = last_event_id.and_then(|id| http::HeaderValue::from_str(id).ok()) {
            request.headers_mut().insert("last-event-id", id);
        }
        let response = self.http.request(request).await.map_err(ClientError::Transport)?;
        if !response.status().is_success() {
            let status = response.status();
            let body = response.into_body().collect().await.map_err(ClientError::Body)?.to_bytes();
            check(status, &body)?;
            return Err(ClientError::Status { status, detail: String::new() });
        }
        Ok(response.into_body())
    }
}

/// `Ok` for a success status; the problem's detail otherwise.
fn check(status: StatusCode, body: &[u8]) -> Result<(), ClientError> {
    if status.is_success() {
        return Ok(());
    }
    let problem = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    let detail = problem["detail"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    // Only a refused *token* is the user's problem; a refused API key (also 401) is ours.
    if status == StatusCode::UNAUTHORIZED && problem["type"] == "urn:continuum:problem:invalid-token" {
        return Err(ClientError::Rejected(detail));
    }
    Err(ClientError::Status { status, detail })
}

/// Percent-encodes everything but unreserved characters, for a path segment.
fn encode_path(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_the_problem_detail() {
        let body = br#"{"type":"urn:continuum:problem:invalid-token","status":401,"detail":"revoked"}"#;
        assert!(
            matches!(check(StatusCode::UNAUTHORIZED, body), Err(ClientError::Rejected(d)) if d == "revoked")
        );
        assert!(
            matches!(check(StatusCode::BAD_GATEWAY, b"down"), Err(ClientError::Status { detail, .. }) if detail == "down")
        );
        assert!(check(StatusCode::NO_CONTENT, b"").is_ok());
        assert_eq!(encode_path("a b/é"), "a%20b%2F%C3%A9");
    }
}
