//! What the embedded store acknowledged survives a server restart on the same data directory, and
//! a start refused before serving closes the store it was handed.

mod common;

use common::{TestServer, config};
use hyper::{Method, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_config(config(dir.path())).await;
    let (kept, _) = server.create_session(json!({"principal": "alice", "attributes": {"step": 1}})).await;
    let kept_sid = kept.split_once('.').unwrap().0.to_owned();
    let patched = server
        .backend(Method::PATCH, &format!("/v1/sessions/{kept_sid}/attributes"), Some(json!({"step": 2})))
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    let (revoked, _) = server.create_session(json!({"principal": "alice"})).await;
    let revoked_sid = revoked.split_once('.').unwrap().0.to_owned();
    assert_eq!(
        server.backend(Method::DELETE, &format!("/v1/sessions/{revoked_sid}"), None).await.status,
        StatusCode::NO_CONTENT
    );
    server.stop().await;

    let server = TestServer::start_config(config(dir.path())).await;
    let valid = server.backend(Method::POST, "/v1/sessions/validate", Some(json!({ "token": kept }))).await;
    assert_eq!(valid.status, StatusCode::OK);
    let session = valid.json()["session"].clone();
    assert_eq!((session["attributes"]["step"].clone(), session["version"].clone()), (json!(2), json!(2)));
    let refused =
        server.backend(Method::POST, "/v1/sessions/validate", Some(json!({ "token": revoked }))).await;
    assert!(refused.problem(401).contains("revoked"), "a revocation survives the restart");
    let listed = server.backend(Method::GET, "/v1/principals/alice/sessions", None).await.json();
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_api_key_is_reused_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut without_keys = config(dir.path());
    without_keys.api_keys.clear();
    let server = TestServer::start_config(without_keys.clone()).await;
    let key = std::fs::read_to_string(dir.path().join("api-keys")).unwrap().trim().to_owned();
    let auth = format!("Bearer {key}");
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    let created = server.request(Method::POST, "/v1/sessions", &headers, Some(b"{}".to_vec())).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let refused = server
        .request(
            Method::POST,
            "/v1/sessions",
            &[("authorization", "Bearer test-api-key")],
            Some(b"{}".to_vec()),
        )
        .await;
    refused.problem(401);
    server.stop().await;

    let server = TestServer::start_config(without_keys).await;
    let again = server.request(Method::POST, "/v1/sessions", &headers, Some(b"{}".to_vec())).await;
    assert_eq!(again.status, StatusCode::CREATED, "the same key works after a restart");
    server.stop().await;
}

/// A start refused before serving (here: sealing keys that are no key ring) still closes the
/// stores it was handed, as a stop does, and reopening the same directory works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_start_closes_the_stores_it_was_handed() {
    let dir = tempfile::tempdir().unwrap();
    let store = continuum_backends::StoreConfig::Redb;
    let (metrics, stores) = common::open(&store, dir.path()).await;
    let mut settings = config(dir.path());
    settings.sealing_keys = vec!["sk_not-a-key".to_owned()];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handed = stores.clone();
    let error = continuum_server::run(settings, handed, metrics, listener, std::future::pending(), |_| {
        axum::Router::new()
    })
    .await
    .expect_err("refused");
    assert!(error.to_string().contains("invalid sealing keys"), "{error}");
    let doc = continuum_core::DocKey::parse("user:alice", "draft").unwrap();
    let refused = stores.docs.append(&doc, vec![1]).await;
    assert!(matches!(refused, Err(continuum_store::StoreError::Closed)), "{refused:?}");
    drop(stores);

    let server = TestServer::start_config(config(dir.path())).await;
    server.stop().await;
}
