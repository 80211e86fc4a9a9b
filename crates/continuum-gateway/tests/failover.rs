//! The gateway over real loopback sockets in front of stub nodes whose faults the test turns on
//! (mocks only for fault injection): a request that broke after it was sent is not sent again
//! unless it is a read or a validation, over a new connection or a kept-alive one alike, a 503
//! ejects its node until it passes its checks again, an oversized body never reaches a node.

mod stub;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use continuum_core::{Placement, PlacementKey, SessionId};
use continuum_gateway::{GatewayConfig, HealthConfig, NodeSpec};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// What a stub node does with a request that is not a health check.
const ANSWER: u8 = 0;
const UNAVAILABLE: u8 = 1;
const BREAK: u8 = 2;

/// A stub node speaking just enough HTTP/1.1: `/readyz` is 200, other requests are counted and
/// answered per `mode` — 200 with the node's address, 503, or the connection closed with
/// nothing answered. It closes each connection after one answer, or with `keep_alive` serves
/// every request a connection brings, counting the connections that brought one that is not a
/// health check.
struct Stub {
    addr: SocketAddr,
    mode: Arc<AtomicU8>,
    requests: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
}

impl Stub {
    async fn start() -> Stub {
        Stub::serving(false).await
    }

    async fn kept_alive() -> Stub {
        Stub::serving(true).await
    }

    async fn serving(keep_alive: bool) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stub = Stub {
            addr,
            mode: Arc::new(AtomicU8::new(ANSWER)),
            requests: Arc::new(AtomicUsize::new(0)),
            connections: Arc::new(AtomicUsize::new(0)),
        };
        let counters = (Arc::clone(&stub.mode), Arc::clone(&stub.requests), Arc::clone(&stub.connections));
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (mode, requests, connections) =
                    (Arc::clone(&counters.0), Arc::clone(&counters.1), Arc::clone(&counters.2));
                tokio::spawn(async move {
                    serve(tcp, addr, keep_alive, &mode, &requests, &connections).await;
                });
            }
        });
        stub
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn serve(
    mut tcp: TcpStream,
    addr: SocketAddr,
    keep_alive: bool,
    mode: &AtomicU8,
    requests: &AtomicUsize,
    connections: &AtomicUsize,
) {
    let mut read = Vec::new();
    let mut counted = false;
    loop {
        let Some(head) = stub::next_request(&mut tcp, &mut read).await else { return };
        let (status, body) = if head.starts_with("get /readyz ") {
            ("200 OK", "ready".to_owned())
        } else {
            requests.fetch_add(1, Ordering::SeqCst);
            if !counted {
                connections.fetch_add(1, Ordering::SeqCst);
                counted = true;
            }
            match mode.load(Ordering::SeqCst) {
                UNAVAILABLE => ("503 Service Unavailable", "unavailable".to_owned()),
                BREAK => return,
                _ => ("200 OK", addr.to_string()),
            }
        };
        let close = if keep_alive { "" } else { "Connection: close\r\n" };
        let answer = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n{close}\r\n{body}", body.len());
        if tcp.write_all(answer.as_bytes()).await.is_err() || !keep_alive {
            return;
        }
    }
}

/// A gateway over `stubs` with `health`, on a loopback port; its address.
async fn gateway(stubs: &[&Stub], health: HealthConfig, max_body_bytes: usize) -> SocketAddr {
    let nodes = stubs.iter().map(|stub| NodeSpec::parse(&format!("http://{}", stub.addr)).unwrap()).collect();
    let mut config = GatewayConfig::new(nodes);
    config.health = health;
    config.max_body_bytes = max_body_bytes;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(continuum_gateway::run(config, listener, std::future::pending()));
    addr
}

/// `method path` with `body` through the gateway; the status and the body.
async fn send(gateway: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut tcp = TcpStream::connect(gateway).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_string(&mut answer)).await.unwrap().unwrap();
    let status = answer[9..12].parse().unwrap();
    (status, answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default())
}

/// Three stubs and a session id whose ranking over them is `order` (indices into the stubs).
async fn three() -> ([Stub; 3], SessionId, Vec<usize>) {
    placed([Stub::start().await, Stub::start().await, Stub::start().await])
}

/// [`three`] with stubs that keep connections alive.
async fn three_kept_alive() -> ([Stub; 3], SessionId, Vec<usize>) {
    placed([Stub::kept_alive().await, Stub::kept_alive().await, Stub::kept_alive().await])
}

fn placed(stubs: [Stub; 3]) -> ([Stub; 3], SessionId, Vec<usize>) {
    let ids: Vec<String> = stubs.iter().map(|stub| stub.addr.to_string()).collect();
    let sid = SessionId::generate();
    let order = Placement::new(ids.clone())
        .rank(&PlacementKey::session(&sid))
        .into_iter()
        .map(|id| ids.iter().position(|candidate| candidate == id).unwrap())
        .collect();
    (stubs, sid, order)
}

const SLOW_CHECKS: HealthConfig =
    HealthConfig { interval: Duration::from_secs(30), timeout: Duration::from_secs(1), fall: 2, rise: 2 };

#[tokio::test]
async fn a_request_that_broke_after_it_was_sent_is_not_sent_again() {
    let (stubs, sid, order) = three().await;
    let gw = gateway(&stubs.iter().collect::<Vec<_>>(), SLOW_CHECKS, 1024).await;
    let (primary, backup) = (&stubs[order[0]], &stubs[order[1]]);
    let path = format!("/v1/sessions/{sid}/rotate");
    assert_eq!(send(gw, "POST", &path, "").await, (200, primary.addr.to_string()), "to the primary");

    primary.set(BREAK);
    let (status, body) = send(gw, "POST", &path, "").await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("urn:continuum:problem:node-unavailable"), "{body}");
    assert_eq!((primary.requests(), backup.requests()), (2, 0), "the node may have rotated: not sent twice");

    let (status, body) = send(gw, "POST", &path, "").await;
    assert_eq!((status, body), (200, backup.addr.to_string()), "the broken node was ejected");
}

#[tokio::test]
async fn a_read_whose_connection_broke_is_sent_once_more_to_the_next_owner() {
    let (stubs, sid, order) = three().await;
    let gw = gateway(&stubs.iter().collect::<Vec<_>>(), SLOW_CHECKS, 1024).await;
    let (primary, backup) = (&stubs[order[0]], &stubs[order[1]]);
    primary.set(BREAK);
    let path = format!("/v1/sessions/{sid}");
    assert_eq!(send(gw, "GET", &path, "").await, (200, backup.addr.to_string()), "a read does no harm twice");
    // A fresh gateway (the first one ejected the primary) for a validation of the same sid.
    let gw = gateway(&stubs.iter().collect::<Vec<_>>(), SLOW_CHECKS, 1024).await;
    let body = format!(r#"{{"token": "{sid}.{}"}}"#, "A".repeat(43));
    let (status, _) = send(gw, "POST", "/v1/sessions/validate", &body).await;
    assert_eq!((status, primary.requests(), backup.requests()), (200, 2, 2), "nor does a validation");
}

#[tokio::test]
async fn over_a_kept_alive_connection_that_broke_a_read_is_sent_again_and_a_write_is_not() {
    let (stubs, sid, order) = three_kept_alive().await;
    let gw = gateway(&stubs.iter().collect::<Vec<_>>(), SLOW_CHECKS, 1024).await;
    let (primary, backup) = (&stubs[order[0]], &stubs[order[1]]);
    let read = format!("/v1/sessions/{sid}");
    assert_eq!(send(gw, "GET", &read, "").await, (200, primary.addr.to_string()));
    primary.set(BREAK);
    assert_eq!(send(gw, "GET", &read, "").await, (200, backup.addr.to_string()), "sent again to the backup");
    assert_eq!(
        (primary.requests(), primary.connections()),
        (2, 1),
        "both reads on one kept-alive connection"
    );

    primary.set(ANSWER);
    let gw = gateway(&stubs.iter().collect::<Vec<_>>(), SLOW_CHECKS, 1024).await;
    let rotate = format!("/v1/sessions/{sid}/rotate");
    assert_eq!(send(gw, "POST", &rotate, "").await, (200, primary.addr.to_string()));
    primary.set(BREAK);
    let backup_before = backup.requests();
    let (status, body) = send(gw, "POST", &rotate, "").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(backup.requests(), backup_before, "the rotation may have run: not sent twice");
    assert_eq!((primary.requests(), primary.connections()), (4, 2), "one kept-alive connection per gateway");
}

#[tokio::test]
async fn a_node_answering_503_is_ejected_until_it_passes_its_checks_again() {
    let (stubs, sid, order) = three().await;
    let fast = HealthConfig { interval: Duration::from_millis(50), ..SLOW_CHECKS };
    let gw = gateway(&stubs.iter().collect::<Vec<_>>(), fast, 1024).await;
    let (primary, backup) = (&stubs[order[0]], &stubs[order[1]]);
    let path = format!("/v1/sessions/{sid}");

    primary.set(UNAVAILABLE);
    assert_eq!(send(gw, "GET", &path, "").await.0, 503, "the node's answer is passed on");
    primary.set(ANSWER);
    assert_eq!(send(gw, "GET", &path, "").await.1, backup.addr.to_string(), "ejected at once");

    // Its /readyz passes: after `rise` checks it is the primary again.
    let deadline = Instant::now() + Duration::from_secs(5);
    while send(gw, "GET", &path, "").await.1 != primary.addr.to_string() {
        assert!(Instant::now() < deadline, "re-admitted after passing its checks");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_before_any_node_sees_it() {
    let (stubs, _, _) = three().await;
    let gw = gateway(&stubs.iter().collect::<Vec<_>>(), SLOW_CHECKS, 16).await;
    let (status, body) = send(gw, "POST", "/v1/sessions/validate", &"x".repeat(17)).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("urn:continuum:problem:body-too-large") && body.contains("16 bytes"), "{body}");
    assert_eq!(stubs.iter().map(Stub::requests).sum::<usize>(), 0);
    assert_eq!(
        send(gw, "POST", "/v1/sessions/validate", &"x".repeat(16)).await.0,
        200,
        "at the limit it is forwarded"
    );
}
