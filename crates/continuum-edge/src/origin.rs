//! [`OriginClient`]: the edge's calls to its origin — a session's record, a touch, the event
//! stream, a document's downstream socket, and any request forwarded as it is — over
//! hyper-util's pooled HTTP/1 client (tokio-tungstenite for the socket), with the origin's API
//! key on the backend-plane calls and a deadline on each.

use std::time::Duration;

use axum::body::Body;
use continuum_core::{DocKey, SessionId, SessionRecord};
use http::{HeaderValue, Method, Request, Response, StatusCode, Uri, header};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A downstream socket to the origin.
pub type OriginSocket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long connecting to the origin may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a backend-plane call (a record, a touch) may take from start to its whole answer.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a call to the origin failed.
#[derive(Debug, thiserror::Error)]
pub enum OriginError {
    /// The origin URL joined with a path is not a URI.
    #[error("invalid origin URL")]
    Url(#[source] http::Error),
    /// No HTTP exchange (connection refused, reset…).
    #[error("cannot reach the origin")]
    Transport(#[source] hyper_util::client::legacy::Error),
    /// The call took longer than its deadline.
    #[error("the origin did not answer within {0:?}")]
    Timeout(Duration),
    /// The answer's body could not be read.
    #[error("the origin's answer was cut")]
    Body(#[source] hyper::Error),
    /// The record did not decode.
    #[error("the origin's session record was not understood")]
    Record(#[source] continuum_store::RecordCodecError),
    /// An unexpected status (401: the edge's API key is not one of the origin's).
    #[error("the origin answered {0}")]
    Status(StatusCode),
    /// The WebSocket handshake failed (refused, or answered with an error status).
    #[error("the origin's sync socket did not open")]
    Upgrade(#[source] Box<tokio_tungstenite::tungstenite::Error>),
}

/// How long opening a downstream socket (connect and handshake) may take.
pub const UPGRADE_TIMEOUT: Duration = Duration::from_secs(3);

/// A path segment with everything but unreserved characters and `:` percent-encoded.
fn segment(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => {
                encoded.push(byte as char)
            }
            other => encoded.push_str(&format!("%{other:02X}")),
        }
    }
    encoded
}

/// How long a replay batch may take (the origin answers once it is durable).
pub const REPLAY_TIMEOUT: Duration = Duration::from_secs(10);

/// A client of one origin. Cheap to clone (one connection pool).
#[derive(Clone, Debug)]
pub struct OriginClient {
    /// `http://host:port`, no trailing slash.
    base: String,
    authorization: HeaderValue,
    http: Client<HttpConnector, Body>,
}

impl OriginClient {
    /// A client of the origin at `base` (`http://host:port`) with the backend-plane `api_key`.
    pub fn new(base: &str, api_key: &str) -> Result<Self, http::header::InvalidHeaderValue> {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let http = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(64).build(connector);
        let mut authorization = HeaderValue::from_str(&format!("Bearer {api_key}"))?;
        authorization.set_sensitive(true);
        Ok(Self { base: base.trim_end_matches('/').to_owned(), authorization, http })
    }

    /// The origin's URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `path_and_query` at the origin.
    pub fn uri(&self, path_and_query: &str) -> Result<Uri, OriginError> {
        format!("{}{path_and_query}", self.base)
            .parse::<Uri>()
            .map_err(|error| OriginError::Url(error.into()))
    }

    /// Sends `request` as it is (its URI already pointing at the origin).
    pub async fn send(&self, request: Request<Body>) -> Result<Response<Incoming>, OriginError> {
        self.http.request(request).await.map_err(OriginError::Transport)
    }

    /// A backend-plane call with an empty body; the status and the whole answer.
    async fn call(&self, method: Method, path: &str) -> Result<(StatusCode, axum::body::Bytes), OriginError> {
        let request = Request::builder()
            .method(method)
            .uri(self.uri(path)?)
            .header(header::AUTHORIZATION, self.authorization.clone())
            .body(Body::empty())
            .map_err(OriginError::Url)?;
        let exchange = async {
            let response = self.send(request).await?;
            let status = response.status();
            let body = response.into_body().collect().await.map_err(OriginError::Body)?.to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(CALL_TIMEOUT, exchange).await.map_err(|_| OriginError::Timeout(CALL_TIMEOUT))?
    }

    /// The origin's record of `sid`, tombstones included; `None` if it has none.
    pub async fn record(&self, sid: &SessionId) -> Result<Option<SessionRecord>, OriginError> {
        let (status, body) = self.call(Method::GET, &format!("/v1/edge/sessions/{sid}")).await?;
        match status {
            StatusCode::OK => {
                continuum_store::decode_record(*sid, &body).map(Some).map_err(OriginError::Record)
            }
            StatusCode::NOT_FOUND => Ok(None),
            other => Err(OriginError::Status(other)),
        }
    }

    /// Tells the origin the session was seen in use; whether it is live there.
    pub async fn touch(&self, sid: &SessionId) -> Result<bool, OriginError> {
        let (status, _) = self.call(Method::POST, &format!("/v1/edge/sessions/{sid}/touch")).await?;
        match status {
            StatusCode::NO_CONTENT => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            other => Err(OriginError::Status(other)),
        }
    }

    /// `POST /v1/edge/replay` with `body` (JSON); the status and the whole answer.
    pub async fn replay(&self, body: Vec<u8>) -> Result<(StatusCode, axum::body::Bytes), OriginError> {
        let request = Request::builder()
            .method(Method::POST)
            .uri(self.uri("/v1/edge/replay")?)
            .header(header::AUTHORIZATION, self.authorization.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .map_err(OriginError::Url)?;
        let exchange = async {
            let response = self.send(request).await?;
            let status = response.status();
            let body = response.into_body().collect().await.map_err(OriginError::Body)?.to_bytes();
            Ok((status, body))
        };
        tokio::time::timeout(REPLAY_TIMEOUT, exchange)
            .await
            .map_err(|_| OriginError::Timeout(REPLAY_TIMEOUT))?
    }

    /// Opens the downstream socket of `key`: `GET /v1/edge/sync/{scope}/{name}` upgraded to a
    /// WebSocket, within [`UPGRADE_TIMEOUT`].
    pub async fn downstream(&self, key: &DocKey) -> Result<OriginSocket, OriginError> {
        let host = self.base.strip_prefix("http://").unwrap_or(&self.base);
        let url = format!(
            "ws://{host}/v1/edge/sync/{}/{}",
            segment(&key.scope.to_string()),
            segment(key.name.as_str())
        );
        let upgrade = |error| OriginError::Upgrade(Box::new(error));
        let mut request = url.into_client_request().map_err(upgrade)?;
        request.headers_mut().insert(header::AUTHORIZATION, self.authorization.clone());
        let (socket, _) = tokio::time::timeout(UPGRADE_TIMEOUT, tokio_tungstenite::connect_async(request))
            .await
            .map_err(|_| OriginError::Timeout(UPGRADE_TIMEOUT))?
            .map_err(upgrade)?;
        Ok(socket)
    }

    /// Opens `GET /v1/events`, resuming after `last_id`; the streaming body.
    pub async fn events(&self, last_id: Option<&str>) -> Result<Incoming, OriginError> {
        let mut request = Request::builder()
            .uri(self.uri("/v1/events")?)
            .header(header::AUTHORIZATION, self.authorization.clone())
            .header(header::ACCEPT, "text/event-stream");
        if let Some(id) = last_id {
            request = request.header("last-event-id", id);
        }
        let request = request.body(Body::empty()).map_err(OriginError::Url)?;
        let response = tokio::time::timeout(CALL_TIMEOUT, self.send(request))
            .await
            .map_err(|_| OriginError::Timeout(CALL_TIMEOUT))??;
        match response.status() {
            StatusCode::OK => Ok(response.into_body()),
            other => Err(OriginError::Status(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_percent_encoded_but_for_scope_colons() {
        assert_eq!(segment("user:alice"), "user:alice");
        assert_eq!(segment("user:a b/ç?#"), "user:a%20b%2F%C3%A7%3F%23");
        assert_eq!(segment("draft-1.v2_x~"), "draft-1.v2_x~");
    }
}
