//! The browser pages and their endpoints: the admin page always, the demo app only with the
//! demo on, the demo's PDF task writing its progress into the user's document, and the live
//! documents listing of the backend plane.

mod common;

use std::time::Duration;

use common::TestServer;
use common::yclient::YClient;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_page_is_always_served_and_the_demo_only_when_on() {
    let plain = TestServer::start().await;
    let admin = plain.get("/admin", &[]).await;
    assert_eq!(admin.status, StatusCode::OK);
    assert!(admin.header("content-security-policy").unwrap().contains("default-src 'self'"));
    assert!(String::from_utf8_lossy(&admin.body).contains("Sign in with an API key"));
    assert_eq!(plain.get("/", &[]).await.problem(404), "no such endpoint");
    assert_eq!(plain.get("/assets/demo.js", &[]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(plain.get("/sw.js", &[]).await.status, StatusCode::NOT_FOUND, "no demo, no worker");
    plain.stop().await;

    let demo = TestServer::start_demo(|config| config.guest.enabled = true).await;
    let page = demo.get("/", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(String::from_utf8_lossy(&page.body).contains("/assets/demo.js"));
    let script = demo.get("/assets/demo.js", &[]).await;
    assert_eq!(script.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert!(script.body.len() > 10_000, "the bundle with yjs is embedded");
    assert!(String::from_utf8_lossy(&script.body).contains("/sw.js"), "the page registers its worker");
    let worker = demo.get("/sw.js", &[]).await;
    assert_eq!(worker.header("content-type"), Some("text/javascript; charset=utf-8"));
    let worker = String::from_utf8_lossy(&worker.body);
    for shell in ["'/'", "'/assets/demo.js'", "'/assets/style.css'"] {
        assert!(worker.contains(shell), "the worker keeps {shell}");
    }
    demo.stop().await;
}

async fn task_state(server: &TestServer, principal: &str) -> Value {
    let answer = server.backend(Method::GET, &format!("/v1/docs/user:{principal}/demo-trip"), None).await;
    answer.json()["task"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pdf_task_writes_progress_into_the_document_one_at_a_time() {
    let server = TestServer::start_demo(|_| {}).await;
    let (token, _) = server.create_session(json!({"principal": "alice"})).await;
    let auth = format!("Session {token}");
    let headers = [("authorization", auth.as_str())];
    server.request(Method::POST, "/demo/api/pdf", &[], None).await.problem(401);

    let started = server.request(Method::POST, "/demo/api/pdf", &headers, None).await;
    assert_eq!(started.status, StatusCode::ACCEPTED);
    assert_eq!(started.json()["task"]["state"], "running");
    let again = server.request(Method::POST, "/demo/api/pdf", &headers, None).await;
    assert!(again.problem(409).contains("already being prepared"));

    // Progress arrives through the document; poll it (bounded) until the task is done.
    let mut seen = Vec::new();
    for _ in 0..200 {
        let task = task_state(&server, "alice").await;
        seen.push(task["progress"].as_f64().unwrap_or(0.0));
        if task["state"] == "done" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let task = task_state(&server, "alice").await;
    assert_eq!((task["state"].as_str(), task["progress"].as_f64()), (Some("done"), Some(100.0)), "{task}");
    assert!(seen.iter().any(|p| *p > 0.0 && *p < 100.0), "intermediate progress was written: {seen:?}");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "progress only grows: {seen:?}");
    // The slot is free again.
    let next = server.request(Method::POST, "/demo/api/pdf", &headers, None).await;
    assert_eq!(next.status, StatusCode::ACCEPTED);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_documents_list_their_connected_devices() {
    let server = TestServer::start().await;
    let (token, session) =
        server.create_session(json!({"principal": "alice", "device": {"label": "laptop"}})).await;
    let auth = format!("Session {token}");
    let mut socket = YClient::connect(server.addr, "/v1/sync/user:alice/notes", &[("authorization", &auth)])
        .await
        .expect("socket opens");
    socket.sync().await;

    let listed = server.backend(Method::GET, "/v1/live/docs", None).await.json();
    assert_eq!(listed["truncated"], false);
    let docs = listed["docs"].as_array().unwrap();
    assert_eq!(docs.len(), 1, "{listed}");
    assert_eq!((docs[0]["scope"].as_str(), docs[0]["name"].as_str()), (Some("user:alice"), Some("notes")));
    assert_eq!(docs[0]["peers"], 1);
    let device = &docs[0]["devices"][0];
    assert_eq!(device["sid"], session["sid"]);
    assert_eq!(device["principal"], "alice");
    assert_eq!(device["device"]["label"], "laptop");
    assert_eq!(device["sockets"], 1);

    let other = server.backend(Method::GET, "/v1/live/docs?scope=user:bob", None).await.json();
    assert_eq!(other["docs"], json!([]));
    socket.close().await;
    for _ in 0..100 {
        if server.backend(Method::GET, "/v1/live/docs", None).await.json()["docs"] == json!([]) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.backend(Method::GET, "/v1/live/docs", None).await.json()["docs"], json!([]));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_mounted_beside_the_api_shares_its_fallbacks_and_metrics() {
    let server = TestServer::start_demo(|_| {}).await;
    let wrong = server.get("/demo/api/pdf", &[]).await;
    assert!(wrong.problem(405).contains("does not take this method"));
    assert_eq!(wrong.header("allow"), Some("POST"));
    assert_eq!(server.get("/", &[]).await.status, StatusCode::OK);
    let metrics = server.get("/metrics", &[]).await;
    let metrics = String::from_utf8_lossy(&metrics.body);
    for counted in
        [r#"{method="GET",route="/",status="200"}"#, r#"{method="GET",route="/demo/api/pdf",status="405"}"#]
    {
        assert!(
            metrics.contains(&format!("continuum_http_requests_total{counted}")),
            "{counted} in {metrics}"
        );
    }
    server.stop().await;
}
