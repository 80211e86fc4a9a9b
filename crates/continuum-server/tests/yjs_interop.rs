//! The stock npm `yjs` + `y-websocket` client (under Node, from tests/node) against a real
//! server: two clients edit one map and converge, and a third client started after a server
//! restart receives the full state.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{TestServer, config};
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/node")
}

/// Runs `node interop.mjs <args>` and parses the JSON it prints.
async fn node(args: Vec<String>) -> Value {
    let dir = node_dir();
    assert!(
        dir.join("node_modules/y-websocket").exists(),
        "run `npm ci --prefix tests/node` first (scripts/test.sh does)"
    );
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node").arg("interop.mjs").args(&args).current_dir(&dir).output()
    })
    .await
    .expect("join")
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "node failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stock_yjs_clients_converge_and_a_late_client_gets_everything_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_config(config(dir.path())).await;
    let (laptop, _) = server.create_session(json!({"principal": "alice"})).await;
    let (phone, _) = server.create_session(json!({"principal": "alice"})).await;
    let base = format!("ws://{}/v1/sync", server.addr);
    let room = "user:alice/form".to_owned();

    let views = node(vec!["pair".into(), base.clone(), room.clone(), laptop.clone(), phone]).await;
    let expected = json!({"email": "alice@example.com", "step": 2, "plan": "pro", "seats": 3});
    assert_eq!(views["a"], expected);
    assert_eq!(views["b"], expected);
    assert_eq!(
        views["bSees"],
        json!([{"label": "laptop", "route": "/checkout", "step": 2}]),
        "awareness: the phone sees where the laptop is"
    );
    let backend = server.backend(Method::GET, "/v1/docs/user:alice/form", None).await;
    assert_eq!(backend.status, StatusCode::OK);
    assert_eq!(backend.json()["form"], expected, "the backend plane reads what the clients wrote");
    server.stop().await;

    let server = TestServer::start_config(config(dir.path())).await;
    let base = format!("ws://{}/v1/sync", server.addr);
    let (tablet, _) = server.create_session(json!({"principal": "alice"})).await;
    let late = node(vec!["read".into(), base, room, tablet]).await;
    assert_eq!(late["form"], expected, "a client after the restart receives the full state");
    server.stop().await;
}
