//! Connection timeouts and the connection cap (issue 18, finding 6), over real loopback
//! sockets: silent, half-sent-header and idle keep-alive connections are closed within their
//! (short, here) timeouts; an open sync socket and an event stream outlive them; past the cap a
//! connection waits until another closes.

mod common;

use std::future::Future;
use std::time::{Duration, Instant};

use common::sse::SseReader;
use common::yclient::YClient;
use common::{KEY, TestServer};
use continuum_server::ConnectionLimits;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const HEADER_READ: Duration = Duration::from_millis(500);
const IDLE: Duration = Duration::from_millis(1500);
/// Slack for a loaded machine on top of a timeout.
const SLACK: Duration = Duration::from_millis(1500);

async fn server() -> TestServer {
    TestServer::start_with(|config| {
        config.connections = ConnectionLimits {
            header_read_timeout: HEADER_READ,
            idle_timeout: IDLE,
            max_connections: 10_000,
            ..ConnectionLimits::default()
        };
    })
    .await
}

/// Every test ends within 30 s whatever happens.
async fn bounded(test: impl Future<Output = ()>) {
    tokio::time::timeout(Duration::from_secs(30), test).await.expect("the test ends within 30 s");
}

/// Reads until the server closes the connection (EOF or reset) or `limit` passes; returns when
/// it closed, measured from `since`, and the bytes read.
async fn closed_after(
    stream: &mut TcpStream,
    since: Instant,
    limit: Duration,
) -> (Option<Duration>, Vec<u8>) {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    let end = Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(end.into(), stream.read(&mut buf)).await {
            Err(_) => return (None, bytes),
            Ok(Ok(0)) | Ok(Err(_)) => return (Some(since.elapsed()), bytes),
            Ok(Ok(n)) => bytes.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sends a whole `GET /healthz` and reads its answer (the body is `ok`-sized, so one read
/// with a full header and a `content-length` body).
async fn healthz(stream: &mut TcpStream) -> String {
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n").await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !complete(&answer) {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("an answer within 5 s")
            .unwrap();
        assert!(n > 0, "closed before answering: {}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&answer).into_owned()
}

fn complete(answer: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return false };
    let length = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    body.len() >= length
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_read_timeout() {
    bounded(async {
        let server = server().await;
        let start = Instant::now();
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let (closed, bytes) = closed_after(&mut stream, start, HEADER_READ + SLACK).await;
        let closed = closed.expect("closed by the server");
        assert!(closed >= HEADER_READ - Duration::from_millis(50), "not before the timeout: {closed:?}");
        assert!(bytes.is_empty(), "nothing was answered: {}", String::from_utf8_lossy(&bytes));
        server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_header_is_closed_after_the_header_read_timeout_not_the_idle_one() {
    bounded(async {
        let server = server().await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let start = Instant::now();
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: te").await.unwrap();
        // Dribbling more bytes does not extend it.
        tokio::time::sleep(Duration::from_millis(200)).await;
        stream.write_all(b"st\r\nX-Slow: 1").await.unwrap();
        let (closed, _) = closed_after(&mut stream, start, HEADER_READ + SLACK).await;
        let closed = closed.expect("closed by the server");
        assert!(closed >= HEADER_READ - Duration::from_millis(50), "{closed:?}");
        assert!(closed < IDLE, "the header read timeout, not the idle one: {closed:?}");
        server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout_and_served_before_it() {
    bounded(async {
        let server = server().await;
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        assert!(healthz(&mut stream).await.starts_with("HTTP/1.1 200"));
        // Idle longer than the header read timeout but within the idle one: still served.
        tokio::time::sleep(HEADER_READ * 2).await;
        assert!(healthz(&mut stream).await.starts_with("HTTP/1.1 200"), "kept alive past the header timeout");
        let idle_since = Instant::now();
        let (closed, bytes) = closed_after(&mut stream, idle_since, IDLE + SLACK).await;
        let closed = closed.expect("closed by the server");
        assert!(closed >= IDLE - Duration::from_millis(50), "not before the idle timeout: {closed:?}");
        assert!(bytes.is_empty());
        server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_sync_socket_and_an_event_stream_outlive_the_timeouts() {
    bounded(async {
        let server = server().await;
        let (token, _) = server.create_session(json!({"principal": "alice"})).await;
        let auth = format!("Session {token}");
        let mut socket =
            YClient::connect(server.addr, "/v1/sync/user:alice/notes", &[("authorization", &auth)])
                .await
                .expect("the socket opens");
        socket.sync().await;
        let backend = format!("Bearer {KEY}");
        let mut events = SseReader::open(server.addr, "/v1/events", &[("authorization", &backend)]).await;
        assert_eq!(events.status, 200);

        tokio::time::sleep(IDLE + HEADER_READ + Duration::from_millis(500)).await;

        socket.set("form", "step", 2).await;
        let mut reader =
            YClient::connect(server.addr, "/v1/sync/user:alice/notes", &[("authorization", &auth)])
                .await
                .unwrap();
        reader.sync().await;
        assert!(
            reader.pump_until(|c| c.json("form")["step"] == 2, Duration::from_secs(5)).await,
            "the socket kept working past the idle timeout"
        );
        assert!(socket.closed.is_none(), "{:?}", socket.closed);
        server.create_session(json!({"principal": "bob"})).await;
        let event = events.next(Duration::from_secs(5)).await;
        assert!(event.is_some(), "the event stream kept working past the idle timeout");
        server.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_cap_a_connection_waits_until_another_closes() {
    bounded(async {
        let idle = Duration::from_millis(500);
        let server = TestServer::start_with(|config| {
            config.connections = ConnectionLimits {
                header_read_timeout: Duration::from_secs(20),
                idle_timeout: idle,
                max_connections: 2,
                ..ConnectionLimits::default()
            };
        })
        .await;
        // The test client's pooled keep-alive connection is closed as idle first.
        tokio::time::sleep(idle + Duration::from_millis(500)).await;
        // Two connections in the middle of a header (not idle) hold both places.
        let mut first = TcpStream::connect(server.addr).await.unwrap();
        first.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        let mut second = TcpStream::connect(server.addr).await.unwrap();
        second.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        let mut third = TcpStream::connect(server.addr).await.unwrap();
        third.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 256];
        let waited = tokio::time::timeout(Duration::from_millis(700), third.read(&mut buf)).await;
        assert!(waited.is_err(), "not served while two connections are open");
        drop(first);
        let n = tokio::time::timeout(Duration::from_secs(5), third.read(&mut buf))
            .await
            .expect("served once a place is free")
            .unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        second.write_all(b"Host: test\r\n\r\n").await.unwrap();
        drop(second);
        server.stop().await;
    })
    .await;
}
