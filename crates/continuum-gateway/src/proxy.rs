//! [`Gateway`]: one request through the gateway — read it, find its route key, choose the node,
//! forward (retrying once on the next owner after a connect error), learn the node of issued
//! codes, and hand upgraded sockets to the relay.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::choice::{Failure, Preference};
use crate::config::GatewayConfig;
use crate::metrics::{GatewayMetrics, Outcome};
use crate::nodes::Nodes;
use crate::pool::{Pool, PoolConfig, PooledBody, SendError};
use crate::problem::{Body, full, problem};
use crate::remembered::IssuedCodes;
use crate::route::{OneTimeKey, RequestFacts, Route};
use crate::websocket::{SocketEnd, relay};

/// The largest answer body read to learn an issued code (a handoff offer or a ticket is ~100
/// bytes).
const MAX_ISSUE_BODY: usize = 16 * 1024;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Headers that describe one hop's connection and are not forwarded (RFC 9110 §7.6.1).
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// The gateway's shared state: the nodes, a connection pool per node, the codes it learnt.
pub struct Gateway {
    nodes: Arc<Nodes>,
    /// Indexed as `nodes`.
    pools: Vec<Pool>,
    codes: Mutex<IssuedCodes>,
    config: GatewayConfig,
    metrics: Arc<GatewayMetrics>,
    sockets: TaskTracker,
    closing: CancellationToken,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("nodes", &self.nodes).finish_non_exhaustive()
    }
}

/// One try's result.
enum Sent {
    Answer(Response<PooledBody>),
    Failed(Failure, SendError),
    /// The request target cannot be joined to a node's address.
    BadTarget,
}

impl Gateway {
    /// The gateway over `nodes`; relayed sockets run on `sockets` and close when `closing` fires;
    /// the connections to the nodes run on `connections`, and end once the gateway and every
    /// answer it gave are dropped.
    pub fn new(
        config: GatewayConfig,
        nodes: Arc<Nodes>,
        metrics: Arc<GatewayMetrics>,
        sockets: TaskTracker,
        closing: CancellationToken,
        connections: &TaskTracker,
    ) -> Self {
        let pool = PoolConfig {
            max_connections: config.max_connections_per_node,
            idle_timeout: config.upstream_idle_timeout,
            connect_timeout: config.health.timeout.max(std::time::Duration::from_millis(500)),
        };
        let pools = (0..nodes.len())
            .map(|index| Pool::new(nodes.get(index).spec.authority.clone(), pool, connections.clone()))
            .collect();
        let codes = Mutex::new(IssuedCodes::new(config.max_remembered_codes));
        Self { nodes, pools, codes, config, metrics, sockets, closing }
    }

    /// Answers one request from `peer`.
    pub async fn handle(self: Arc<Self>, mut request: Request<Incoming>, peer: &Peer) -> Response<Body> {
        let upgrade = is_upgrade(request.headers());
        let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut request));
        let (parts, body) = request.into_parts();
        let body = match self.read_body(&parts.headers, body).await {
            Ok(body) => body,
            Err(response) => return *response,
        };
        let path = parts.uri.path();
        let facts = RequestFacts {
            method: &parts.method,
            path,
            query: parts.uri.query(),
            headers: &parts.headers,
            body: &body,
            client: peer.addr.ip(),
        };
        let route = crate::route::route(&facts, self.config.affinity);
        let (preference, redeemed) = match route {
            Route::GatewayMetrics => {
                let mut response = Response::new(full(self.metrics.render()));
                let text =
                    HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8");
                response.headers_mut().insert(header::CONTENT_TYPE, text);
                return response;
            }
            Route::Key(key) => (Preference::Ranked(self.nodes.ranked(&key)), None),
            Route::LeastLoaded => (Preference::LeastLoaded, None),
            Route::Issuer { code, fallback } => {
                (self.issuer_preference(&code, fallback.as_ref()), Some(code))
            }
        };
        let Some(plan) = self.nodes.plan(&preference) else {
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "no-node",
                "the gateway has no node to send this to",
            );
        };
        if plan.failover {
            self.metrics.failover();
        }
        let head = Head { parts: &parts, peer, upgrade };
        let mut target = plan.first;
        let mut sent = self.send(&head, &body, target).await;
        let idempotent = crate::route::idempotent(&parts.method, path);
        if let (Sent::Failed(failure, _), Some(next)) = (&sent, plan.retry)
            && failure.retryable(idempotent)
        {
            self.metrics.retry();
            target = next;
            sent = self.send(&head, &body, target).await;
        }
        let mut response = match sent {
            Sent::Answer(response) => response,
            Sent::BadTarget => {
                return problem(StatusCode::BAD_REQUEST, "bad-target", "the request target is not a path");
            }
            Sent::Failed(_, error) => {
                tracing::warn!(node = %self.nodes.get(target).spec.id, error = %error, "request to a node failed");
                let detail = "the node for this request did not answer; retry";
                return problem(StatusCode::BAD_GATEWAY, "node-unavailable", detail);
            }
        };
        if let Some(client_upgrade) =
            client_upgrade.filter(|_| response.status() == StatusCode::SWITCHING_PROTOCOLS)
        {
            self.relay_socket(client_upgrade, hyper::upgrade::on(&mut response), target);
            let (parts, _) = response.into_parts();
            return Response::from_parts(parts, full(Bytes::new()));
        }
        if let Some(code) = &redeemed
            && response.status() == StatusCode::CREATED
        {
            self.codes.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).forget(code);
        }
        if crate::route::may_issue_code(&parts.method, path) && response.status() == StatusCode::CREATED {
            return self.learn_code(&parts, response, target).await;
        }
        strip_hop_by_hop(response.headers_mut(), false);
        response.map(|body| body.boxed())
    }

    /// Reads the whole body, up to the limit: 413 past it, 400 if it breaks off.
    async fn read_body(&self, headers: &HeaderMap, body: Incoming) -> Result<Bytes, Box<Response<Body>>> {
        let limit = self.config.max_body_bytes;
        let too_large = || {
            let detail = format!("the request body is over the gateway's limit of {limit} bytes");
            Box::new(problem(StatusCode::PAYLOAD_TOO_LARGE, "body-too-large", &detail))
        };
        let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(too_large());
        }
        match Limited::new(body, limit).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(too_large()),
            Err(_) => {
                let detail = "the request body ended before it was complete";
                Err(Box::new(problem(StatusCode::BAD_REQUEST, "incomplete-body", detail)))
            }
        }
    }

    /// The issuer of `code` first when remembered, then the fallback key's owners (or the
    /// least loaded).
    fn issuer_preference(
        &self,
        code: &OneTimeKey,
        fallback: Option<&continuum_core::PlacementKey>,
    ) -> Preference {
        let issuer =
            self.codes.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).issuer(code, Instant::now());
        let rest = fallback.map(|key| self.nodes.ranked(key));
        match (issuer, rest) {
            (Some(issuer), Some(rest)) => Preference::Ranked(std::iter::once(issuer).chain(rest).collect()),
            (Some(issuer), None) => {
                Preference::Ranked(std::iter::once(issuer).chain(0..self.nodes.len()).collect())
            }
            (None, Some(rest)) => Preference::Ranked(rest),
            (None, None) => Preference::LeastLoaded,
        }
    }

    /// Sends the request to node `index` once; a connect error, a broken connection or a 502/503
    /// ejects the node (passive check).
    async fn send(&self, head: &Head<'_>, body: &Bytes, index: usize) -> Sent {
        let node = self.nodes.get(index);
        let request = match head.upstream_request(&node.spec.authority, body.clone()) {
            Ok(request) => request,
            Err(error) => {
                // Only a path the client sent that cannot be joined to the node's address.
                tracing::debug!(error = %error, "cannot build the upstream request");
                return Sent::BadTarget;
            }
        };
        let in_flight = self.nodes.start(index);
        let started = Instant::now();
        let result = self.pools[index].send(request).await;
        drop(in_flight);
        let seconds = started.elapsed().as_secs_f64();
        match result {
            Ok(response) => {
                node.metrics.record(Outcome::Answered, seconds);
                if matches!(response.status(), StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE) {
                    self.nodes.failed(index);
                }
                Sent::Answer(response)
            }
            Err(error) => {
                let (failure, outcome) = match error.unsent() {
                    true => (Failure::Connect, Outcome::ConnectError),
                    false => (Failure::AfterSend, Outcome::Broken),
                };
                node.metrics.record(outcome, seconds);
                if failure.ejects() {
                    self.nodes.failed(index);
                }
                Sent::Failed(failure, error)
            }
        }
    }

    /// Reads a 201 answer that issued a code, remembers its node, and answers with the body as
    /// read.
    async fn learn_code(
        &self,
        parts: &http::request::Parts,
        response: Response<PooledBody>,
        node: usize,
    ) -> Response<Body> {
        let (mut head, body) = response.into_parts();
        strip_hop_by_hop(&mut head.headers, false);
        let bytes = match Limited::new(body, MAX_ISSUE_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                let detail = "the node's answer broke off";
                return problem(StatusCode::BAD_GATEWAY, "node-unavailable", detail);
            }
        };
        let status = head.status.as_u16();
        if let Some(code) = crate::route::issued_code(&parts.method, parts.uri.path(), status, &bytes) {
            let remembered = self.codes.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remember(
                code,
                node,
                Instant::now(),
            );
            if !remembered {
                tracing::warn!("the table of issued codes is full: this code's redemption may miss its node");
            }
        }
        head.headers.remove(header::CONTENT_LENGTH);
        Response::from_parts(head, full(bytes))
    }

    /// Relays the upgraded socket on the gateway's socket tasks; the node counts it as in
    /// flight while it is open.
    fn relay_socket(&self, client: hyper::upgrade::OnUpgrade, node: hyper::upgrade::OnUpgrade, index: usize) {
        let nodes = Arc::clone(&self.nodes);
        let metrics = Arc::clone(&self.metrics);
        let closing = self.closing.clone();
        let max = self.config.max_message_bytes;
        self.sockets.spawn(async move {
            let in_flight = nodes.start(index);
            let (client, node) = match tokio::join!(client, node) {
                (Ok(client), Ok(node)) => (client, node),
                (Err(error), _) | (_, Err(error)) => {
                    tracing::debug!(error = %error, "a socket upgrade did not complete");
                    return;
                }
            };
            metrics.socket(1);
            let end = relay(client, node, max, closing).await;
            metrics.socket(-1);
            drop(in_flight);
            if end == SocketEnd::NodeLost {
                metrics.socket_node_lost();
                nodes.failed(index);
            }
        });
    }
}

/// The client at the other end of one connection.
#[derive(Clone, Debug)]
pub struct Peer {
    /// Its address.
    pub addr: SocketAddr,
    /// Its address as an `X-Forwarded-For` value, made once per connection.
    forwarded: HeaderValue,
}

impl Peer {
    /// The client at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        let forwarded =
            HeaderValue::from_str(&addr.ip().to_string()).unwrap_or(HeaderValue::from_static("unknown"));
        Self { addr, forwarded }
    }
}

/// What the upstream request is built from.
struct Head<'a> {
    parts: &'a http::request::Parts,
    peer: &'a Peer,
    upgrade: bool,
}

impl Head<'_> {
    /// The request for the node at `authority`: same method, path, query and headers (Host
    /// included, for the node's origin checks; the node's address when the client sent none),
    /// without hop-by-hop headers, with the client's address appended to `X-Forwarded-For`.
    /// The target is in origin form (`/path?query`), as a client sends it to a server.
    fn upstream_request(&self, authority: &str, body: Bytes) -> Result<Request<Full<Bytes>>, http::Error> {
        let uri = match self.parts.uri.path_and_query() {
            Some(path) => Uri::from(path.clone()),
            None => Uri::from_static("/"),
        };
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = self.parts.method.clone();
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        *headers = self.parts.headers.clone();
        strip_hop_by_hop(headers, self.upgrade);
        if !headers.contains_key(header::HOST) {
            headers.insert(header::HOST, HeaderValue::from_str(authority)?);
        }
        let forwarded = match headers.get(X_FORWARDED_FOR).and_then(|value| value.to_str().ok()) {
            Some(earlier) => HeaderValue::from_str(&format!("{earlier}, {}", self.peer.addr.ip())).ok(),
            None => Some(self.peer.forwarded.clone()),
        };
        if let Some(value) = forwarded {
            headers.insert(X_FORWARDED_FOR, value);
        }
        Ok(request)
    }
}

/// Whether the request asks to switch to a WebSocket.
fn is_upgrade(headers: &HeaderMap) -> bool {
    let connection_upgrade = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.split(',').any(|token| token.trim().eq_ignore_ascii_case("upgrade")));
    connection_upgrade && headers.contains_key(header::UPGRADE)
}

/// Removes the headers of one hop, and those the `Connection` header names; an upgrade keeps
/// `Connection: upgrade` and `Upgrade`.
fn strip_hop_by_hop(headers: &mut HeaderMap, upgrade: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(',').map(str::trim).map(str::to_owned).collect::<Vec<_>>())
        .filter_map(|name| HeaderName::from_bytes(name.as_bytes()).ok())
        .collect();
    let upgrade_to = headers.get(header::UPGRADE).cloned();
    for name in named.iter().chain(HOP_BY_HOP.iter()) {
        headers.remove(name);
    }
    if let (true, Some(protocol)) = (upgrade, upgrade_to) {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, protocol);
    }
}
