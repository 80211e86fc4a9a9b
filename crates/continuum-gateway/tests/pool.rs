//! The connection pool over real loopback sockets against a stub node that keeps connections
//! alive: requests in turn share one connection, concurrent ones open no more than the bound,
//! a connection the node closed while idle is replaced without an error, and a body dropped
//! before its end closes its connection rather than returning it.

mod stub;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use continuum_gateway::pool::{Pool, PoolConfig};
use http::{HeaderValue, Method, Request, Uri, header};
use http_body_util::{BodyExt as _, Full};
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::task::TaskTracker;

/// A stub node speaking HTTP/1.1 with keep-alive, counting the connections it accepted. Paths:
/// `/slow` answers after 100 ms, `/big` with a 4 MiB body, `/empty` with an empty one, `/then-close` answers and closes
/// the connection 20 ms later (an idle close, announced by nothing); anything else answers
/// with the number of the request on its connection.
struct Stub {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

impl Stub {
    async fn start() -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(tcp));
            }
        });
        Stub { addr, accepted }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

async fn serve(mut tcp: TcpStream) {
    let mut read = Vec::new();
    for number in 1.. {
        let Some(head) = stub::next_request(&mut tcp, &mut read).await else { return };
        let path = head.split(' ').nth(1).unwrap_or("").to_owned();
        if path == "/slow" {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let body = match path.as_str() {
            "/big" => "x".repeat(4 * 1024 * 1024),
            "/empty" => String::new(),
            _ => number.to_string(),
        };
        let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        if tcp.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
        if path == "/then-close" {
            tokio::time::sleep(Duration::from_millis(20)).await;
            return;
        }
    }
}

fn pool(stub: &Stub, max_connections: usize) -> Pool {
    let config = PoolConfig {
        max_connections,
        idle_timeout: Duration::from_secs(30),
        connect_timeout: Duration::from_secs(1),
    };
    Pool::new(stub.addr.to_string(), config, TaskTracker::new())
}

fn request(method: Method, path: &'static str) -> Request<Full<Bytes>> {
    let mut request = Request::new(Full::new(Bytes::from_static(b"{}")));
    *request.method_mut() = method;
    *request.uri_mut() = Uri::from_static(path);
    request.headers_mut().insert(header::HOST, HeaderValue::from_static("node"));
    request
}

/// Sends `method path` and reads the whole answer body.
async fn text(pool: &Pool, method: Method, path: &'static str) -> String {
    let response = pool.send(request(method, path)).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

#[tokio::test]
async fn requests_in_turn_share_one_kept_alive_connection() {
    let stub = Stub::start().await;
    let pool = pool(&stub, 8);
    for expected in 1..=5 {
        assert_eq!(
            text(&pool, Method::GET, "/").await,
            expected.to_string(),
            "the connection's request number"
        );
    }
    assert_eq!((stub.accepted(), pool.idle_count()), (1, 1));
}

#[tokio::test]
async fn an_empty_answer_dropped_unread_still_returns_its_connection() {
    let stub = Stub::start().await;
    let pool = pool(&stub, 8);
    for _ in 0..3 {
        // As hyper's server does with a body known to be empty: dropped without a poll.
        let response = pool.send(request(Method::GET, "/empty")).await.unwrap();
        drop(response);
    }
    assert_eq!(stub.accepted(), 1);
}

#[tokio::test]
async fn concurrent_requests_open_no_more_connections_than_the_bound() {
    let stub = Stub::start().await;
    let pool = pool(&stub, 2);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let pool = pool.clone();
        tasks.spawn(async move { text(&pool, Method::GET, "/slow").await });
    }
    let mut answers = Vec::new();
    while let Some(answer) = tasks.join_next().await {
        answers.push(answer.unwrap());
    }
    answers.sort();
    assert_eq!(answers, ["1", "1", "2", "2", "3", "3"], "three requests on each of two connections");
    assert_eq!(stub.accepted(), 2);
}

#[tokio::test]
async fn a_connection_the_node_closed_while_idle_is_replaced_without_an_error() {
    let stub = Stub::start().await;
    let pool = pool(&stub, 8);
    assert_eq!(text(&pool, Method::POST, "/then-close").await, "1");
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Not a read: had it been written into the closed connection, it could not be sent again.
    assert_eq!(text(&pool, Method::POST, "/").await, "1", "the first request of a new connection");
    assert_eq!(stub.accepted(), 2);
}

#[tokio::test]
async fn a_body_dropped_before_its_end_closes_its_connection() {
    let stub = Stub::start().await;
    let pool = pool(&stub, 8);
    let response = pool.send(request(Method::GET, "/big")).await.unwrap();
    let mut body = response.into_body();
    let first = body.frame().await.unwrap().unwrap();
    assert!(first.is_data());
    drop(body);
    assert_eq!(text(&pool, Method::GET, "/").await, "1", "a new connection, not the half-read one");
    assert_eq!(stub.accepted(), 2);
}
