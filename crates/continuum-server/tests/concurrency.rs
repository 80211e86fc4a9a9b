//! No lost updates under concurrent requests over real sockets: merge patches from 64 clients,
//! and 64 `If-Match` read-modify-write loops on one counter.

mod common;

use std::sync::Arc;

use common::TestServer;
use hyper::{Method, StatusCode};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_merge_patches_all_land() {
    let server = Arc::new(TestServer::start().await);
    let (token, _) = server.create_session(json!({"principal": "alice"})).await;
    let sid = token.split_once('.').unwrap().0.to_owned();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (server, sid) = (Arc::clone(&server), sid.clone());
        tasks.push(tokio::spawn(async move {
            let path = format!("/v1/sessions/{sid}/attributes");
            server.backend(Method::PATCH, &path, Some(json!({ format!("k{i}"): i }))).await.status
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    let session =
        server.backend(Method::GET, &format!("/v1/sessions/{sid}"), None).await.json()["session"].clone();
    let attributes = session["attributes"].as_object().unwrap();
    for i in 0..64 {
        assert_eq!(attributes.get(&format!("k{i}")), Some(&json!(i)), "k{i} was lost");
    }
    assert_eq!(session["version"], 65);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_if_match_loops_count_exactly_their_successes() {
    let server = Arc::new(TestServer::start().await);
    let (token, _) = server.create_session(json!({"principal": "alice", "attributes": {"counter": 0}})).await;
    let sid = token.split_once('.').unwrap().0.to_owned();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (server, sid) = (Arc::clone(&server), sid.clone());
        tasks.push(tokio::spawn(async move {
            let (mut successes, mut conflicts) = (0u64, 0u64);
            for _ in 0..5 {
                let read = server.backend(Method::GET, &format!("/v1/sessions/{sid}"), None).await;
                let etag = read.header("etag").unwrap().to_owned();
                let counter = read.json()["session"]["attributes"]["counter"].as_u64().unwrap();
                let path = format!("/v1/sessions/{sid}/attributes");
                let write = server
                    .backend_with(
                        Method::PATCH,
                        &path,
                        &[("if-match", &etag)],
                        Some(json!({"counter": counter + 1})),
                    )
                    .await;
                match write.status.as_u16() {
                    200 => successes += 1,
                    412 => conflicts += 1,
                    other => panic!("unexpected {other}: {}", String::from_utf8_lossy(&write.body)),
                }
            }
            (successes, conflicts)
        }));
    }
    let (mut successes, mut conflicts) = (0, 0);
    for task in tasks {
        let (s, c) = task.await.unwrap();
        successes += s;
        conflicts += c;
    }
    let session =
        server.backend(Method::GET, &format!("/v1/sessions/{sid}"), None).await.json()["session"].clone();
    assert_eq!(session["attributes"]["counter"], successes, "every 2xx counted once, every 412 not at all");
    assert_eq!(session["version"], successes + 1);
    assert_eq!(successes + conflicts, 64 * 5);
    assert!(successes > 0);
}
