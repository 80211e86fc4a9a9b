//! [`Connection`]: one keep-alive HTTP/1 connection that sends a request and reads the whole
//! answer.

use http::header::HOST;
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::endpoint::Endpoint;
use crate::error::ClientError;

/// One TCP connection speaking HTTP/1.1 with keep-alive; requests go one at a time.
///
/// The task that drives the socket is owned by the connection and aborted when it is dropped.
#[derive(Debug)]
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
    driver: JoinSet<()>,
}

impl Connection {
    /// Connects to `endpoint` (with `TCP_NODELAY`, as every request is one small write) and
    /// performs the HTTP/1 handshake.
    pub async fn open(endpoint: &Endpoint) -> Result<Self, ClientError> {
        let connect = |source| ClientError::Connect { server: endpoint.to_string(), source };
        let stream = TcpStream::connect((endpoint.host(), endpoint.port())).await.map_err(connect)?;
        Self::over(stream, endpoint).await
    }

    /// Performs the HTTP/1 handshake with `endpoint` over `stream`, a TCP connection the caller
    /// opened its own way (from a chosen source address, say), with `TCP_NODELAY` set on it.
    pub async fn over(stream: TcpStream, endpoint: &Endpoint) -> Result<Self, ClientError> {
        let connect = |source| ClientError::Connect { server: endpoint.to_string(), source };
        stream.set_nodelay(true).map_err(connect)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|source| ClientError::Handshake { server: endpoint.to_string(), source })?;
        let mut driver = JoinSet::new();
        driver.spawn(async move {
            // A closed or broken connection shows up again as the error of the next request.
            if let Err(error) = connection.await {
                tracing::debug!(%error, "HTTP connection ended");
            }
        });
        Ok(Self { sender, host: endpoint.host_header(), driver })
    }

    /// Whether the connection can take another request (the server has not closed it).
    pub fn is_open(&self) -> bool {
        !self.sender.is_closed() && !self.driver.is_empty()
    }

    /// Sends `request` (adding `Host` when missing) and reads the whole answer body.
    pub async fn send(&mut self, mut request: Request<Full<Bytes>>) -> Result<Response<Bytes>, ClientError> {
        request.headers_mut().entry(HOST).or_insert_with(|| self.host.clone());
        self.sender.ready().await.map_err(ClientError::Request)?;
        let response = self.sender.send_request(request).await.map_err(ClientError::Request)?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(ClientError::Request)?.to_bytes();
        Ok(Response::from_parts(parts, body))
    }
}
