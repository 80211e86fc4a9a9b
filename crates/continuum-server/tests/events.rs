//! `GET /v1/events`: session events as server-sent events over a real socket — what is sent,
//! what never is (a secret), resuming with `Last-Event-ID`, and the refusals.

mod common;

use std::time::Duration;

use common::sse::{SseEvent, SseReader};
use common::{KEY, TestServer};
use hyper::{Method, StatusCode};
use serde_json::json;

const SOON: Duration = Duration::from_secs(5);

async fn events(server: &TestServer, last_id: Option<&str>) -> SseReader {
    let auth = format!("Bearer {KEY}");
    let mut headers = vec![("authorization", auth.as_str())];
    if let Some(id) = last_id {
        headers.push(("last-event-id", id));
    }
    let reader = SseReader::open(server.addr, "/v1/events", &headers).await;
    assert_eq!(reader.status, 200);
    reader
}

async fn next(reader: &mut SseReader) -> SseEvent {
    reader.next(SOON).await.expect("an event within the deadline")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_events_stream_without_secrets_and_resume_after_the_last_id() {
    let server = TestServer::start().await;
    let mut reader = events(&server, None).await;
    let (token, session) = server.create_session(json!({"principal": "alice"})).await;
    let sid = session["sid"].as_str().unwrap();
    let rotated = server.backend(Method::POST, &format!("/v1/sessions/{sid}/rotate"), None).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let new_token = rotated.json()["token"].as_str().unwrap().to_owned();
    server.backend(Method::DELETE, &format!("/v1/sessions/{sid}"), None).await;

    let mut seen = Vec::new();
    for _ in 0..3 {
        let event = next(&mut reader).await;
        assert_eq!(event.data["sid"], sid);
        assert_eq!(event.data["principal"], "alice");
        assert_eq!(event.data["kind"], event.event.as_str());
        assert!(event.data["at"].as_str().unwrap().ends_with('Z'), "{:?}", event.data);
        for secret in [&token, &new_token] {
            let secret_part = secret.split_once('.').unwrap().1;
            assert!(!event.raw.contains(secret_part), "no secret in {}", event.raw);
        }
        seen.push(event);
    }
    let kinds: Vec<&str> = seen.iter().map(|event| event.event.as_str()).collect();
    assert_eq!(kinds, ["created", "rotated", "revoked"]);
    drop(reader);

    // Validating, reading and patching are not events.
    server.backend(Method::POST, "/v1/sessions/validate", Some(json!({"token": new_token}))).await;
    let (_, bob) = server.create_session(json!({"principal": "bob"})).await;

    // Resuming after the first event replays the other two and what came since, in order.
    let mut resumed = events(&server, seen[0].id.as_deref()).await;
    let replayed: Vec<SseEvent> =
        vec![next(&mut resumed).await, next(&mut resumed).await, next(&mut resumed).await];
    assert_eq!(replayed[0].id, seen[1].id);
    assert_eq!(replayed[1].id, seen[2].id);
    assert_eq!((replayed[2].event.as_str(), &replayed[2].data["sid"]), ("created", &bob["sid"]));
    assert!(resumed.next(Duration::from_millis(300)).await.is_none(), "nothing else happened");

    // An id this server cannot resume from starts with a reset, then goes live.
    let mut lost = events(&server, Some("deadbeef-3")).await;
    let reset = next(&mut lost).await;
    assert_eq!(reset.event, "reset");
    assert!(reset.data["reason"].as_str().unwrap().contains("Last-Event-ID"), "{:?}", reset.data);
    server.create_session(json!({"principal": "carol"})).await;
    assert_eq!(next(&mut lost).await.data["principal"], "carol");
    drop((resumed, lost));
    server.stop().await;
}

/// Sealed tokens have no per-session events: signing a principal out everywhere is one event
/// of its own, after the revocations of its stored sessions, so a cache of sealed tokens can
/// drop that principal's entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_everywhere_is_an_event_after_the_stored_sessions_revocations() {
    let server = TestServer::start().await;
    let (_, stored) = server.create_session(json!({"principal": "dora"})).await;
    let sealed = server
        .backend(Method::POST, "/v1/sessions", Some(json!({"principal": "dora", "sealed": true})))
        .await;
    assert_eq!(sealed.status, StatusCode::CREATED);
    let mut reader = events(&server, None).await;
    let everywhere = server.backend(Method::DELETE, "/v1/principals/dora/sessions", None).await;
    assert_eq!(everywhere.status, StatusCode::OK);

    let mut kinds = Vec::new();
    for _ in 0..2 {
        let event = next(&mut reader).await;
        assert_eq!(event.data["principal"], "dora");
        assert!(event.id.is_some(), "resumable like any event");
        kinds.push(event.event.clone());
        if event.event == "revoked" {
            assert_eq!(event.data["sid"], stored["sid"]);
        } else {
            assert!(event.data.get("sid").is_none(), "{:?}", event.data);
            assert!(event.data["at"].as_str().unwrap().ends_with('Z'), "{:?}", event.data);
        }
    }
    kinds.sort();
    assert_eq!(kinds, ["revoked", "signed_out_everywhere"]);
    assert!(reader.next(Duration::from_millis(300)).await.is_none(), "one event per sign-out");
    drop(reader);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_is_for_the_backend_plane_and_refuses_bad_headers() {
    let server = TestServer::start().await;
    let anonymous = SseReader::open(server.addr, "/v1/events", &[]).await;
    assert_eq!(anonymous.status, 401);
    assert!(anonymous.body().await.contains("\"status\":401"));
    let wrong = SseReader::open(server.addr, "/v1/events", &[("authorization", "Bearer nope")]).await;
    assert_eq!(wrong.status, 401);

    let auth = format!("Bearer {KEY}");
    let bad = SseReader::open(
        server.addr,
        "/v1/events",
        &[("authorization", &auth), ("last-event-id", "caf\u{e9}")],
    )
    .await;
    assert_eq!(bad.status, 400);
    let body = bad.body().await;
    assert!(body.contains("Last-Event-ID"), "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_stream_does_not_hold_up_shutdown() {
    let server = TestServer::start().await;
    let mut reader = events(&server, None).await;
    let stopping = tokio::spawn(server.stop());
    tokio::time::timeout(SOON, stopping).await.expect("the server stops with a stream open").unwrap();
    assert!(reader.next(SOON).await.is_none(), "the stream ended");
}
