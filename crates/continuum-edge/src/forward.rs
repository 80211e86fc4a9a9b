//! [`front`]: what the edge forwards to its origin, put in front of the server app, which answers
//! everything else from the edge's own state.
//!
//! Forwarded: the operations that create, change or list sessions (log out, devices, guest
//! sessions, handoff), the whole backend plane (`/v1/sessions…`, `/v1/principals…`,
//! `/v1/docs…`, `/v1/events`, `/v1/live/docs`, `/v1/edge…`). Answered here: `GET /v1/me` — a
//! validation, from the session cache — sync tickets and sync sockets (the edge's own copy of
//! the document, updates queued for the origin), health, readiness, metrics, the OpenAPI
//! document and the web files. An upgrade that is forwarded is relayed byte for byte.
//!
//! A request keeps its `Host`, cookie and `Origin`, so the origin's same-origin checks see the
//! page's origin against the host the browser used; `X-Forwarded-For` names the client, for the
//! origin's per-client limits (list the edge in the origin's `--trusted-proxy`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse as _, Response};
use axum::routing::{MethodRouter, any, delete, get, post};
use continuum_server::ApiError;
use http::StatusCode;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper_util::rt::TokioIo;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::metrics::EdgeMetrics;
use crate::origin::OriginClient;

/// How long the origin may take to start answering a forwarded request (its head).
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

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

/// What forwarding needs: the origin, a place for relayed sockets, the counters.
#[derive(Debug)]
pub struct Forwarder {
    /// The origin.
    pub origin: OriginClient,
    /// Relayed sockets run here; the edge waits for them when it stops.
    pub sockets: TaskTracker,
    /// Fires when the edge shuts down: relayed sockets end.
    pub closing: CancellationToken,
    /// Counts forwarded requests.
    pub metrics: Arc<EdgeMetrics>,
}

/// The edge's router: the forwarded routes, then `app` for everything else (and for the other
/// methods of a forwarded path, e.g. `GET /v1/me` beside a forwarded `DELETE /v1/me`).
pub fn front(forwarder: Arc<Forwarder>, app: Router) -> Router {
    let other_methods = app.clone();
    let only = move |route: MethodRouter<Arc<Forwarder>>| route.fallback_service(other_methods.clone());
    Router::new()
        .route("/v1/me", only(delete(forward)))
        .route("/v1/me/devices", only(get(forward)))
        .route("/v1/me/devices/{sid}", only(delete(forward)))
        .route("/v1/guest", only(post(forward)))
        .route("/v1/me/handoff", only(post(forward)))
        .route("/v1/handoff/redeem", only(post(forward)))
        .route("/v1/sessions", any(forward))
        .route("/v1/sessions/{*rest}", any(forward))
        .route("/v1/principals/{*rest}", any(forward))
        .route("/v1/docs/{*rest}", any(forward))
        .route("/v1/events", any(forward))
        .route("/v1/live/docs", any(forward))
        .route("/v1/edge/{*rest}", any(forward))
        .fallback_service(app)
        .with_state(forwarder)
}

fn is_upgrade(headers: &HeaderMap) -> bool {
    let connection_upgrade = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.split(',').any(|token| token.trim().eq_ignore_ascii_case("upgrade")));
    connection_upgrade && headers.contains_key(header::UPGRADE)
}

/// Drops the hop-by-hop headers (and those `Connection` names); an upgrade keeps its own.
fn strip_hop_by_hop(headers: &mut HeaderMap, upgrade: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
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

/// One request to the origin and its answer back; an upgrade's two sockets are then relayed.
async fn forward(State(forwarder): State<Arc<Forwarder>>, mut request: Request) -> Response {
    forwarder.metrics.forwarded.inc();
    let upgrade = is_upgrade(request.headers());
    let client_side = upgrade.then(|| hyper::upgrade::on(&mut request));
    let target = request.uri().path_and_query().map_or("/", |path| path.as_str()).to_owned();
    match forwarder.origin.uri(&target) {
        Ok(uri) => *request.uri_mut() = uri,
        Err(error) => return ApiError::internal(error).into_response(),
    }
    let client = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    let headers = request.headers_mut();
    strip_hop_by_hop(headers, upgrade);
    if let Some(client) = client
        && let Ok(value) = HeaderValue::from_str(&client.to_string())
    {
        headers.insert(HeaderName::from_static("x-forwarded-for"), value);
    }
    let mut response = match tokio::time::timeout(ANSWER_TIMEOUT, forwarder.origin.send(request)).await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => {
            tracing::debug!(error = &error as &dyn std::error::Error, %target, "forwarding failed");
            return ApiError::new(
                StatusCode::BAD_GATEWAY,
                "origin-unreachable",
                "the origin cannot be reached",
            )
            .into_response();
        }
        Err(_) => {
            return ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "origin-timeout",
                "the origin did not answer in time",
            )
            .into_response();
        }
    };
    if response.status() == StatusCode::SWITCHING_PROTOCOLS
        && let Some(client_side) = client_side
    {
        let origin_side = hyper::upgrade::on(&mut response);
        let closing = forwarder.closing.clone();
        forwarder.sockets.spawn(async move {
            let (Ok(client), Ok(origin)) = (client_side.await, origin_side.await) else { return };
            let (mut client, mut origin) = (TokioIo::new(client), TokioIo::new(origin));
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut origin) => {}
                () = closing.cancelled() => {}
            }
        });
    } else {
        strip_hop_by_hop(response.headers_mut(), false);
    }
    response.map(Body::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_go_and_an_upgrade_keeps_its_own() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade, x-private"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert("x-private", HeaderValue::from_static("1"));
        headers.insert(header::COOKIE, HeaderValue::from_static("continuum=a.b"));
        assert!(is_upgrade(&headers));
        let mut upgraded = headers.clone();
        strip_hop_by_hop(&mut upgraded, true);
        assert_eq!(upgraded.get(header::UPGRADE).unwrap(), "websocket");
        assert_eq!(upgraded.get(header::CONNECTION).unwrap(), "upgrade");
        assert!(upgraded.get("x-private").is_none());
        strip_hop_by_hop(&mut headers, false);
        assert!(headers.get(header::UPGRADE).is_none() && headers.get(header::CONNECTION).is_none());
        assert_eq!(headers.get(header::COOKIE).unwrap(), "continuum=a.b", "end-to-end headers stay");
    }
}
