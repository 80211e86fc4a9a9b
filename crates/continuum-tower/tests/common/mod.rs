//! A real Continuum server and the visits app on loopback sockets, and a client with a
//! one-cookie jar.

#![allow(dead_code, missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use continuum_backends::{OpenOptions, StoreConfig};
use continuum_server::{Metrics, ServerConfig, run};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::sync::oneshot;

pub const KEY: &str = "tower-test-key";

/// A Continuum server on a fresh data directory; stops when dropped.
pub struct Continuum {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Continuum {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = ServerConfig::new(dir.path());
        config.api_keys = vec![KEY.to_owned()];
        let stores = continuum_backends::open(&StoreConfig::Redb, dir.path(), OpenOptions::default())
            .await
            .expect("the embedded store opens");
        let metrics = Arc::new(Metrics::new());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            run(
                config,
                stores,
                metrics,
                listener,
                async move {
                    let _ = stopped.await;
                },
                |_| axum::Router::new(),
            )
            .await
            .expect("server runs");
        });
        let server = Self { addr, stop: Some(stop), _dir: dir };
        let probe = Browser::new(addr);
        for _ in 0..100 {
            if probe.get("/readyz").await.status == StatusCode::OK {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("Continuum did not become ready");
    }

    /// Stops the server (its event streams end); the data directory stays until drop.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A backend-plane call with the API key.
    pub async fn backend(&self, method: Method, path: &str) -> Answer {
        let mut client = Browser::new(self.addr);
        client.authorization = Some(format!("Bearer {KEY}"));
        client.send(method, path).await
    }

    /// How many `POST /v1/sessions/validate` the server has answered.
    pub async fn validations(&self) -> u64 {
        let metrics = Browser::new(self.addr).get("/metrics").await;
        String::from_utf8_lossy(&metrics.body)
            .lines()
            .filter(|line| line.contains("http_requests") && line.contains("/v1/sessions/validate"))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }
}

impl Drop for Continuum {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves `router` on a loopback port; returns its address.
pub async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("app serves") });
    addr
}

#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub set_cookie: Vec<String>,
    pub content_type: Option<String>,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// Asserts a problem+json answer with this status; returns its detail.
    pub fn problem(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.content_type.as_deref(), Some("application/problem+json"));
        let body = self.json();
        assert_eq!(body["status"], status);
        body["detail"].as_str().expect("detail").to_owned()
    }
}

/// A client that keeps the `session` cookie like a browser would.
pub struct Browser {
    addr: SocketAddr,
    http: Client<HttpConnector, Full<Bytes>>,
    pub cookie: Option<String>,
    authorization: Option<String>,
}

impl Browser {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            http: Client::builder(TokioExecutor::new()).build_http(),
            cookie: None,
            authorization: None,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send_raw(Method::GET, path).await
    }

    /// Sends and updates the jar from `Set-Cookie`.
    pub async fn send(&mut self, method: Method, path: &str) -> Answer {
        let answer = self.send_raw(method, path).await;
        for set in &answer.set_cookie {
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            assert_eq!(name, "session", "dev cookies are named `session`");
            if attributes.contains("Max-Age=0") {
                self.cookie = None;
            } else {
                self.cookie = Some(value.to_owned());
            }
        }
        answer
    }

    async fn send_raw(&self, method: Method, path: &str) -> Answer {
        let mut builder = Request::builder().method(method).uri(format!("http://{}{path}", self.addr));
        if let Some(cookie) = &self.cookie {
            builder = builder.header("cookie", format!("session={cookie}"));
        }
        if let Some(auth) = &self.authorization {
            builder = builder.header("authorization", auth);
        }
        let request = builder.body(Full::new(Bytes::new())).expect("request");
        let response = tokio::time::timeout(Duration::from_secs(10), self.http.request(request))
            .await
            .expect("answer within 10 s")
            .expect("HTTP exchange");
        let (parts, body) = response.into_parts();
        let set_cookie = parts
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().expect("ascii").to_owned())
            .collect();
        let content_type = parts.headers.get("content-type").map(|v| v.to_str().expect("ascii").to_owned());
        let body = body.collect().await.expect("body").to_bytes();
        Answer { status: parts.status, set_cookie, content_type, body }
    }
}
