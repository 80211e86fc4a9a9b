//! A real server on a loopback socket and a minimal HTTP/1 client for the black-box tests.

#![allow(dead_code, missing_docs)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use continuum_backends::{OpenOptions, StoreConfig};
use continuum_server::{AppState, Metrics, ServerConfig, run};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub mod nodes;
pub mod sse;
pub mod yclient;

pub const KEY: &str = "test-api-key";

/// One answer.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json answer with this status and returns its detail.
    pub fn problem(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.header("content-type"), Some("application/problem+json"));
        let body = self.json();
        assert_eq!(body["status"], status);
        assert!(body["type"].as_str().is_some_and(|t| t.starts_with("urn:continuum:problem:")));
        let detail = body["detail"].as_str().expect("detail").to_owned();
        assert!(!detail.is_empty());
        detail
    }
}

/// Routes a test server serves beside the API, built from its state.
pub type Mounts = fn(&AppState) -> Router<AppState>;

/// A running server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub data: PathBuf,
    client: Client<HttpConnector, Full<Bytes>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

pub fn config(data: &Path) -> ServerConfig {
    let mut config = ServerConfig::new(data);
    config.api_keys = vec![KEY.to_owned()];
    config
}

/// Fresh metrics and `store` opened for a server on `data`, its commits feeding the metrics.
pub async fn open(store: &StoreConfig, data: &Path) -> (Arc<Metrics>, continuum_store::Stores) {
    let metrics = Arc::new(Metrics::new());
    let observer = Arc::clone(&metrics);
    let options = OpenOptions {
        on_commit: Some(Arc::new(move |stats: continuum_backends::CommitStats| {
            observer.observe_commit(stats.ops, stats.duration.as_secs_f64());
        })),
        ..Default::default()
    };
    let stores = continuum_backends::open(store, data, options).await.expect("the store opens");
    (metrics, stores)
}

impl TestServer {
    /// A server on a fresh data directory with the default test configuration.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A server on a fresh data directory, its configuration adjusted by `adjust`.
    pub async fn start_with(adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        Self::start_mounting(adjust, |_| Router::new()).await
    }

    /// A server like [`TestServer::start_with`] that also serves the demo app, as
    /// `continuum serve --demo` does.
    pub async fn start_demo(adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        Self::start_mounting(adjust, continuum_server::demo::router).await
    }

    /// A server on a fresh data directory, its configuration adjusted by `adjust`, with the
    /// routes of `mounts` beside the API.
    pub async fn start_mounting(adjust: impl FnOnce(&mut ServerConfig), mounts: Mounts) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = config(dir.path());
        adjust(&mut config);
        let mut server = Self::start_config_mounting(config, mounts).await;
        server._dir = Some(dir);
        server
    }

    /// A server with exactly this configuration, on the embedded store in its data directory.
    pub async fn start_config(config: ServerConfig) -> Self {
        Self::start_config_mounting(config, |_| Router::new()).await
    }

    /// A server with exactly this configuration and the routes of `mounts` beside the API, on
    /// the embedded store in its data directory.
    pub async fn start_config_mounting(config: ServerConfig, mounts: Mounts) -> Self {
        Self::start_on_mounting(config, &StoreConfig::Redb, mounts).await
    }

    /// A server with exactly this configuration, on `store`, opened as the binary opens it
    /// (the embedded store's commits feed the server's metrics).
    pub async fn start_on(config: ServerConfig, store: &StoreConfig) -> Self {
        Self::start_on_mounting(config, store, |_| Router::new()).await
    }

    /// [`TestServer::start_on`] with the routes of `mounts` beside the API.
    pub async fn start_on_mounting(config: ServerConfig, store: &StoreConfig, mounts: Mounts) -> Self {
        let data = config.data_dir.clone();
        let (metrics, stores) = open(store, &data).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            run(
                config,
                stores,
                metrics,
                listener,
                async move {
                    let _ = stopped.await;
                },
                mounts,
            )
            .await
            .expect("server runs");
        });
        let client = Client::builder(TokioExecutor::new()).build_http();
        let server = Self { addr, data, client, stop: Some(stop), task: Some(task), _dir: None };
        for _ in 0..100 {
            if server.get("/readyz", &[]).await.status == StatusCode::OK {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("server did not become ready");
    }

    /// Stops the server and waits until it has closed its store.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("server stops")
                .expect("server task");
        }
        self._dir.take()
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Answer {
        let mut builder = Request::builder().method(method).uri(format!("http://{}{}", self.addr, path));
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(Full::new(Bytes::from(body.unwrap_or_default()))).expect("request");
        let response = tokio::time::timeout(Duration::from_secs(10), self.client.request(request))
            .await
            .expect("answer within 10 s")
            .expect("HTTP exchange");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        Answer { status: parts.status, headers: parts.headers, body }
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        self.request(Method::GET, path, headers, None).await
    }

    /// A backend-plane request with the test API key and a JSON body.
    pub async fn backend(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.backend_with(method, path, &[], body).await
    }

    pub async fn backend_with(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Answer {
        let auth = format!("Bearer {KEY}");
        let mut all = vec![("authorization", auth.as_str()), ("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.request(method, path, &all, body.map(|b| serde_json::to_vec(&b).expect("json"))).await
    }

    /// Creates a session through the API; returns (token, session).
    pub async fn create_session(&self, body: Value) -> (String, Value) {
        let answer = self.backend(Method::POST, "/v1/sessions", Some(body)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&answer.body));
        let json = answer.json();
        (json["token"].as_str().expect("token").to_owned(), json["session"].clone())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
