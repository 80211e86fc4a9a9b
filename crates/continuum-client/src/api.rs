//! [`ApiClient`]: typed calls to the backend plane over one lazily opened [`Connection`].

use std::time::Duration;

use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::Value;

use crate::connection::Connection;
use crate::endpoint::Endpoint;
use crate::error::{ClientError, Problem};
use crate::requests::{self, BearerKey, CreateSession};

/// How long one call may take, connection included, unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A client of one server's backend plane. Calls go one at a time on one keep-alive connection,
/// opened on the first call and opened again if the server closed it.
#[derive(Debug)]
pub struct ApiClient {
    endpoint: Endpoint,
    key: BearerKey,
    timeout: Duration,
    connection: Option<Connection>,
}

impl ApiClient {
    /// A client of `endpoint` presenting `key`.
    pub fn new(endpoint: Endpoint, key: BearerKey) -> Self {
        Self { endpoint, key, timeout: DEFAULT_TIMEOUT, connection: None }
    }

    /// The same client with another per-call timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `POST /v1/sessions`: the answer is `{token, session}`. The token is the only copy of the
    /// session's secret.
    pub async fn create(&mut self, body: &CreateSession) -> Result<Value, ClientError> {
        let request = requests::create_session(&self.key, body);
        json(self.call(request).await?)
    }

    /// `GET /v1/sessions/{sid}`: `{session}`.
    pub async fn get(&mut self, sid: &str) -> Result<Value, ClientError> {
        let request = requests::get_session(&self.key, sid);
        json(self.call(request).await?)
    }

    /// `GET /v1/principals/{principal}/sessions`: `{sessions: [...]}`.
    pub async fn list(&mut self, principal: &str) -> Result<Value, ClientError> {
        let request = requests::list_sessions(&self.key, principal);
        json(self.call(request).await?)
    }

    /// `DELETE /v1/sessions/{sid}`.
    pub async fn revoke(&mut self, sid: &str) -> Result<(), ClientError> {
        let request = requests::revoke_session(&self.key, sid);
        self.call(request).await.map(drop)
    }

    /// Sends `request` within the timeout; a non-2xx answer becomes [`ClientError::Status`].
    pub async fn call(&mut self, request: Request<Full<Bytes>>) -> Result<Response<Bytes>, ClientError> {
        let response = tokio::time::timeout(self.timeout, self.send(request))
            .await
            .map_err(|_| ClientError::Timeout(self.timeout))??;
        if response.status().is_success() {
            return Ok(response);
        }
        let problem = serde_json::from_slice::<Problem>(response.body()).ok();
        Err(ClientError::Status { status: response.status(), problem })
    }

    async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<Response<Bytes>, ClientError> {
        let connection = match &mut self.connection {
            Some(connection) if connection.is_open() => connection,
            slot => slot.insert(Connection::open(&self.endpoint).await?),
        };
        connection.send(request).await
    }
}

fn json(response: Response<Bytes>) -> Result<Value, ClientError> {
    serde_json::from_slice(response.body()).map_err(ClientError::Decode)
}
