//! The multi-node scenario every shared store runs: two server nodes over one store.

use continuum_server::StoreConfig;
use hyper::{Method, StatusCode};
use serde_json::json;

use super::{TestServer, config};

/// A session made on A is valid on B, B's write is A's read, a revocation on B is refused on A
/// at once, and A's restart loses nothing.
pub async fn two_nodes_share_sessions(store: StoreConfig) {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let node = |dir: &std::path::Path| {
        let mut config = config(dir);
        config.store = store.clone();
        config
    };
    let a = TestServer::start_config(node(dirs.0.path())).await;
    let b = TestServer::start_config(node(dirs.1.path())).await;

    let (token, session) = a.create_session(json!({"principal": "alice", "attributes": {"step": 1}})).await;
    let sid = session["sid"].as_str().unwrap().to_owned();
    let on_b = b.backend(Method::POST, "/v1/sessions/validate", Some(json!({ "token": token }))).await;
    assert_eq!(on_b.status, StatusCode::OK, "a session made on A is valid on B");
    let patched =
        b.backend(Method::PATCH, &format!("/v1/sessions/{sid}/attributes"), Some(json!({"step": 2}))).await;
    assert_eq!(patched.status, StatusCode::OK);
    let seen = a.backend(Method::GET, &format!("/v1/sessions/{sid}"), None).await.json();
    assert_eq!(seen["session"]["attributes"]["step"], 2, "B's write is A's read");

    assert_eq!(
        b.backend(Method::DELETE, &format!("/v1/sessions/{sid}"), None).await.status,
        StatusCode::NO_CONTENT
    );
    let refused = a.backend(Method::POST, "/v1/sessions/validate", Some(json!({ "token": token }))).await;
    assert!(refused.problem(401).contains("revoked"), "revoked on B, refused on A at once");

    let (kept, _) = a.create_session(json!({"principal": "bob"})).await;
    a.stop().await;
    let a = TestServer::start_config(node(dirs.0.path())).await;
    let again = a.backend(Method::POST, "/v1/sessions/validate", Some(json!({ "token": kept }))).await;
    assert_eq!(again.status, StatusCode::OK, "nothing lost across a node restart");
    a.stop().await;
    b.stop().await;
}
