//! [`Caller`]: one client's HTTP connections to every route, each request bounded by a timeout,
//! and the bytes it put on the wire.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use continuum_client::{Connection, Endpoint};
use http::{Request, Response};
use http_body_util::Full;

/// Somewhere requests can be sent: a node or the gateway.
#[derive(Clone, Debug)]
pub struct Route {
    /// Its name in the history (`n0`, `gw`).
    pub name: String,
    /// Its address.
    pub endpoint: Endpoint,
}

/// One client's connections, opened on first use and dropped after any failure.
pub struct Caller {
    routes: Arc<Vec<Route>>,
    source: Option<std::net::IpAddr>,
    connections: Vec<Option<Connection>>,
    timeout: Duration,
    bytes: Arc<AtomicU64>,
}

impl Caller {
    /// A caller over `routes`, giving up on a request after `timeout`, adding the HTTP bytes
    /// of every exchange (request and answer, head and body) to `bytes`.
    pub fn new(routes: Arc<Vec<Route>>, timeout: Duration, bytes: Arc<AtomicU64>) -> Self {
        let connections = routes.iter().map(|_| None).collect();
        Self { routes, source: None, connections, timeout, bytes }
    }

    /// Opens connections from `source` (one of the lab's client addresses), so that a gateway
    /// hashing client IPs sees this client as its own.
    pub fn from_source(mut self, source: std::net::IpAddr) -> Self {
        self.source = Some(source);
        self
    }

    /// The routes.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Sends `request` on route `route`: the answer, or why there is none (a timeout, a
    /// connection that failed or closed). A connection that failed is not reused.
    pub async fn send(
        &mut self,
        route: usize,
        request: Request<Full<Bytes>>,
    ) -> Result<Response<Bytes>, String> {
        let sent = request_bytes(&request);
        let endpoint = &self.routes[route].endpoint;
        let source = self.source;
        let slot = &mut self.connections[route];
        let exchange = async {
            if slot.as_ref().is_none_or(|connection| !connection.is_open()) {
                *slot = Some(open(endpoint, source).await?);
            }
            let connection = slot.as_mut().expect("opened above");
            connection.send(request).await.map_err(|error| format!("request: {error}"))
        };
        let answer = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(answer) => answer,
            Err(_) => Err(format!("timeout after {} ms", self.timeout.as_millis())),
        };
        match &answer {
            Ok(response) => self.bytes.fetch_add(sent + response_bytes(response), Ordering::Relaxed),
            Err(_) => {
                *slot = None;
                self.bytes.fetch_add(sent, Ordering::Relaxed)
            }
        };
        answer
    }
}

/// A connection to `endpoint`, from `source` when given.
async fn open(endpoint: &Endpoint, source: Option<std::net::IpAddr>) -> Result<Connection, String> {
    let Some(source) = source else {
        return Connection::open(endpoint).await.map_err(|error| format!("connect: {error}"));
    };
    let target = format!("{}:{}", endpoint.host(), endpoint.port());
    let target: std::net::SocketAddr = target.parse().map_err(|_| format!("not an address: {target}"))?;
    let socket = match source {
        std::net::IpAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
        std::net::IpAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
    }
    .map_err(|error| format!("socket: {error}"))?;
    socket.bind((source, 0).into()).map_err(|error| format!("bind {source}: {error}"))?;
    let stream = socket.connect(target).await.map_err(|error| format!("connect: {error}"))?;
    Connection::over(stream, endpoint).await.map_err(|error| format!("connect: {error}"))
}

/// The bytes of an HTTP/1.1 request as sent: request line, headers, blank line, body.
pub fn request_bytes(request: &Request<Full<Bytes>>) -> u64 {
    use hyper::body::Body as _;
    let line = request.method().as_str().len() + 1 + request.uri().to_string().len() + " HTTP/1.1\r\n".len();
    let body = request.body().size_hint().exact().unwrap_or(0);
    // hyper adds Host and, with a body, Content-Length.
    let added = "host: 255.255.255.255:65535\r\ncontent-length: 0000\r\n".len();
    (line + header_bytes(request.headers()) + 2 + added) as u64 + body
}

/// The bytes of an HTTP/1.1 answer as received: status line, headers, blank line, body.
pub fn response_bytes(response: &Response<Bytes>) -> u64 {
    ("HTTP/1.1 200 OK\r\n".len() + header_bytes(response.headers()) + 2 + response.body().len()) as u64
}

fn header_bytes(headers: &http::HeaderMap) -> usize {
    headers.iter().map(|(name, value)| name.as_str().len() + 2 + value.len() + 2).sum()
}
