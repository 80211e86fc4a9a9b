//! `ContinuumStore` driven through tower-sessions' own public API: a `SessionManagerLayer` on an
//! axum router, real requests over loopback to the app, backed by a real Continuum server.

#![allow(missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use continuum_backends::{OpenOptions, StoreConfig};
use continuum_server::{Metrics, ServerConfig, run};
use continuum_tower_sessions::{ATTRIBUTE, ContinuumStore, PRINCIPAL_PREFIX};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tower_sessions::{Session, SessionManagerLayer};

const KEY: &str = "adapter-test-key";

async fn continuum(dir: &std::path::Path) -> SocketAddr {
    let mut config = ServerConfig::new(dir);
    config.api_keys = vec![KEY.to_owned()];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stores = continuum_backends::open(&StoreConfig::Redb, dir, OpenOptions::default()).await.unwrap();
    let metrics = Arc::new(Metrics::new());
    tokio::spawn(async move {
        run(config, stores, metrics, listener, std::future::pending(), |_| axum::Router::new()).await.unwrap()
    });
    for _ in 0..100 {
        if fetch(addr, "/readyz", None, None).await.0 == StatusCode::OK {
            return addr;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("Continuum did not become ready");
}

async fn count(session: Session) -> Result<String, (StatusCode, String)> {
    let fail = |e: tower_sessions::session::Error| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    let n = session.get::<u64>("n").await.map_err(fail)?.unwrap_or(0) + 1;
    session.insert("n", n).await.map_err(fail)?;
    Ok(n.to_string())
}

async fn flush(session: Session) -> Result<&'static str, (StatusCode, String)> {
    session.flush().await.map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok("bye")
}

/// (status, body, the `id` cookie set, if any).
async fn fetch(
    addr: SocketAddr,
    path: &str,
    cookie: Option<&str>,
    auth: Option<&str>,
) -> (StatusCode, String, Option<String>) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut request = Request::builder().method(Method::GET).uri(format!("http://{addr}{path}"));
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("id={cookie}"));
    }
    if let Some(auth) = auth {
        request = request.header("authorization", format!("Bearer {auth}"));
    }
    let response = client.request(request.body(Empty::new()).unwrap()).await.unwrap();
    let status = response.status();
    let set = response.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_owned());
    let id = set.and_then(|s| s.strip_prefix("id=").map(|rest| rest.split(';').next().unwrap().to_owned()));
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned(), id)
}

async fn sessions_of(continuum: SocketAddr, id: &str) -> Vec<Value> {
    let principal: String = format!("{PRINCIPAL_PREFIX}{id}")
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let (status, body, _) =
        fetch(continuum, &format!("/v1/principals/{principal}/sessions"), None, Some(KEY)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["sessions"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_app_on_tower_sessions_keeps_its_sessions_in_continuum() {
    let dir = tempfile::tempdir().unwrap();
    let continuum = continuum(dir.path()).await;
    let store = ContinuumStore::new(format!("http://{continuum}"), KEY);
    let app = Router::new()
        .route("/count", get(count))
        .route("/flush", get(flush))
        .layer(SessionManagerLayer::new(store).with_secure(false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (status, body, id) = fetch(addr, "/count", None, None).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "1"));
    let id = id.expect("tower-sessions set its cookie");
    for n in 2..=3 {
        assert_eq!(fetch(addr, "/count", Some(&id), None).await.1, n.to_string());
    }
    let stored = sessions_of(continuum, &id).await;
    assert_eq!(stored.len(), 1, "one live Continuum session per tower-sessions id");
    assert_eq!(stored[0]["attributes"][ATTRIBUTE]["data"]["n"], 3);

    let (_, other, other_id) = fetch(addr, "/count", None, None).await;
    assert_eq!(other, "1", "another browser, another session");
    assert_ne!(other_id.as_deref(), Some(id.as_str()));

    assert_eq!(fetch(addr, "/flush", Some(&id), None).await.0, StatusCode::OK);
    assert!(sessions_of(continuum, &id).await.is_empty(), "flush deletes it in Continuum");
    assert_eq!(fetch(addr, "/count", Some(&id), None).await.1, "1", "a deleted session is not loaded");
}
