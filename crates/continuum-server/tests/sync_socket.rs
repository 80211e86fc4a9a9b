//! Continuity documents over real sockets with a yrs client: convergence, reconnects that send
//! only what was missed, durability across a restart, revocation closing sockets, access rules,
//! tickets, backend patches and history restores reaching connected clients, limits.

mod common;

use std::time::{Duration, Instant};

use common::yclient::YClient;
use common::{TestServer, config};
use hyper::{Method, StatusCode};
use serde_json::json;
use tokio_tungstenite::tungstenite;

fn session_header(token: &str) -> String {
    format!("Session {token}")
}

fn refused_status(error: tungstenite::Error) -> u16 {
    match error {
        tungstenite::Error::Http(response) => response.status().as_u16(),
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_converge() {
    let server = TestServer::start().await;
    let (laptop, _) = server.create_session(json!({"principal": "alice"})).await;
    let (phone, _) = server.create_session(json!({"principal": "alice"})).await;
    let path = "/v1/sync/user:alice/form";
    let mut a =
        YClient::connect(server.addr, path, &[("authorization", &session_header(&laptop))]).await.unwrap();
    let mut b =
        YClient::connect(server.addr, path, &[("authorization", &session_header(&phone))]).await.unwrap();
    a.sync().await;
    b.sync().await;
    a.set("form", "email", "alice@example.com").await;
    b.set("form", "step", 2).await;
    let both = |c: &YClient| c.json("form").as_object().is_some_and(|m| m.len() == 2);
    assert!(a.pump_until(both, Duration::from_secs(5)).await, "a sees b's change");
    assert!(b.pump_until(both, Duration::from_secs(5)).await, "b sees a's change");
    assert_eq!(a.json("form"), json!({"email": "alice@example.com", "step": 2}));
    assert_eq!(a.json("form"), b.json("form"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_written_several_messages_per_flush_arrives_whole_and_in_order() {
    let server = TestServer::start().await;
    let (writer_token, _) = server.create_session(json!({"principal": "alice"})).await;
    let (reader_token, _) = server.create_session(json!({"principal": "alice"})).await;
    let path = "/v1/sync/user:alice/essay";
    let mut writer =
        YClient::connect(server.addr, path, &[("authorization", &session_header(&writer_token))])
            .await
            .unwrap();
    let mut reader =
        YClient::connect(server.addr, path, &[("authorization", &session_header(&reader_token))])
            .await
            .unwrap();
    writer.sync().await;
    reader.sync().await;
    // The reader does not read while the writer appends: a backlog of updates, each depending
    // on the one before, queues for it and goes out in batches of several messages per flush.
    let mut expected = String::new();
    for i in 0..300 {
        let piece = format!("{i},");
        writer.append_text("essay", &piece).await;
        expected.push_str(&piece);
    }
    let done = |c: &YClient| c.text("essay").len() == expected.len();
    assert!(reader.pump_until(done, Duration::from_secs(10)).await, "every update arrived");
    assert_eq!(reader.text("essay"), expected);
    assert_eq!(reader.out_of_order, 0, "relayed in the order applied");
    assert!(reader.closed.is_none(), "no close for lag at this size");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_client_receives_only_what_it_missed() {
    let server = TestServer::start().await;
    let (writer_token, _) = server.create_session(json!({"principal": "alice"})).await;
    let (reader_token, _) = server.create_session(json!({"principal": "alice"})).await;
    let path = "/v1/sync/user:alice/notes";
    let writer_auth = session_header(&writer_token);
    let reader_auth = session_header(&reader_token);
    let acked = format!("{path}?acks=1");
    let mut writer = YClient::connect(server.addr, &acked, &[("authorization", &writer_auth)]).await.unwrap();
    writer.sync().await;
    for i in 0..200 {
        writer.set("notes", &format!("note{i}"), "x".repeat(100)).await;
    }
    assert!(writer.pump_until(|c| c.acked >= 200, Duration::from_secs(10)).await, "the server has all 200");
    let mut reader = YClient::connect(server.addr, path, &[("authorization", &reader_auth)]).await.unwrap();
    reader.sync().await;
    let full_sync = reader.received_update_bytes;
    assert!(full_sync > 20_000, "the first sync carries the whole document ({full_sync} bytes)");
    let doc = reader.close().await;

    for i in 0..3 {
        writer.set("notes", &format!("missed{i}"), "y".repeat(100)).await;
    }
    assert!(writer.pump_until(|c| c.acked >= 203, Duration::from_secs(10)).await, "the server has all 203");
    let mut reader =
        YClient::connect_with(doc, server.addr, path, &[("authorization", &reader_auth)]).await.unwrap();
    reader.sync().await;
    let missed = reader.received_update_bytes;
    println!("reconnect: {missed} bytes for 3 missed updates; first sync {full_sync} bytes for 200");
    assert!(missed < 1_500, "only the missed updates travel on reconnect ({missed} bytes)");
    assert_eq!(reader.json("notes").as_object().unwrap().len(), 203);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_loses_nothing_acknowledged_as_durable() {
    let dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_config(config(dir.path())).await;
    let (token, _) = server.create_session(json!({"principal": "alice"})).await;
    let auth = session_header(&token);
    let path = "/v1/sync/user:alice/draft";
    let mut client =
        YClient::connect(server.addr, &format!("{path}?acks=1"), &[("authorization", &auth)]).await.unwrap();
    client.sync().await;
    for i in 0..20 {
        client.set("draft", &format!("field{i}"), i).await;
    }
    assert!(client.pump_until(|c| c.acked >= 20, Duration::from_secs(5)).await, "acked {}", client.acked);
    server.stop().await;

    let server = TestServer::start_config(config(dir.path())).await;
    let mut fresh = YClient::connect(server.addr, path, &[("authorization", &auth)]).await.unwrap();
    fresh.sync().await;
    let draft = fresh.json("draft");
    assert_eq!(draft.as_object().unwrap().len(), 20, "{draft}");
    assert_eq!(draft["field19"], 19);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_are_sent_only_to_clients_that_ask() {
    let server = TestServer::start().await;
    let (token, _) = server.create_session(json!({"principal": "alice"})).await;
    let auth = session_header(&token);
    let mut plain = YClient::connect(server.addr, "/v1/sync/user:alice/plain", &[("authorization", &auth)])
        .await
        .unwrap();
    plain.sync().await;
    plain.set("m", "k", 1).await;
    // A y-websocket client would fail to parse an unknown message: none may arrive.
    plain.pump_until(|_| false, Duration::from_millis(500)).await;
    assert_eq!(plain.acked, 0);
    assert!(plain.closed.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_a_session_closes_its_sockets_within_a_second() {
    // The periodic session check is set to a minute: the revocation event alone must close it.
    let server =
        TestServer::start_with(|config| config.sync_limits.session_check = Duration::from_secs(60)).await;
    let (token, session) = server.create_session(json!({"principal": "alice"})).await;
    let mut client = YClient::connect(
        server.addr,
        "/v1/sync/user:alice/form",
        &[("authorization", &session_header(&token))],
    )
    .await
    .unwrap();
    client.sync().await;
    let sid = session["sid"].as_str().unwrap();
    let revoked_at = Instant::now();
    assert_eq!(
        server.backend(Method::DELETE, &format!("/v1/sessions/{sid}"), None).await.status,
        StatusCode::NO_CONTENT
    );
    let frame = client.wait_closed(Duration::from_secs(3)).await.expect("the server closed the socket");
    let elapsed = revoked_at.elapsed();
    assert!(elapsed < Duration::from_secs(1), "closed after {elapsed:?}");
    assert_eq!(frame.map(|f| u16::from(f.code)), Some(4401));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_closes_client_and_backend_sockets_as_going_away_not_as_a_session_end() {
    // A socket's end-of-session token is a child of the shutdown token: the close code must
    // still tell the two apart.
    let server = TestServer::start().await;
    let (token, _) = server.create_session(json!({"principal": "alice"})).await;
    let path = "/v1/sync/user:alice/form";
    let mut client =
        YClient::connect(server.addr, path, &[("authorization", &session_header(&token))]).await.unwrap();
    let key = format!("Bearer {}", common::KEY);
    let mut backend = YClient::connect(server.addr, path, &[("authorization", &key)]).await.unwrap();
    client.sync().await;
    backend.sync().await;
    let stopping = tokio::spawn(server.stop());
    for socket in [&mut client, &mut backend] {
        let frame = socket.wait_closed(Duration::from_secs(5)).await.expect("the server closed the socket");
        assert_eq!(frame.map(|f| u16::from(f.code)), Some(1001));
    }
    stopping.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_to_other_documents_is_refused() {
    let server = TestServer::start().await;
    let (alice, _) = server.create_session(json!({"principal": "alice"})).await;
    let (_, other) = server.create_session(json!({"principal": "alice"})).await;
    let auth = session_header(&alice);
    let headers = [("authorization", auth.as_str())];
    let bob = YClient::connect(server.addr, "/v1/sync/user:bob/form", &headers).await;
    assert_eq!(refused_status(bob.err().expect("refused")), 403);
    let other_session = format!("/v1/sync/session:{}/tab", other["sid"].as_str().unwrap());
    assert_eq!(
        refused_status(YClient::connect(server.addr, &other_session, &headers).await.err().unwrap()),
        403
    );
    let own_session = format!("/v1/sync/session:{}/tab", alice.split_once('.').unwrap().0);
    assert!(
        YClient::connect(server.addr, &own_session, &headers).await.is_ok(),
        "its own session's document"
    );
    assert_eq!(
        refused_status(YClient::connect(server.addr, "/v1/sync/user:alice/form", &[]).await.err().unwrap()),
        401
    );
    assert_eq!(
        refused_status(YClient::connect(server.addr, "/v1/sync/group:x/form", &headers).await.err().unwrap()),
        400
    );
    assert_eq!(
        refused_status(
            YClient::connect(server.addr, "/v1/sync/user:alice/.hidden", &headers).await.err().unwrap()
        ),
        400
    );
    // The backend plane opens any document.
    let key = format!("Bearer {}", common::KEY);
    assert!(
        YClient::connect(server.addr, "/v1/sync/user:bob/form", &[("authorization", &key)]).await.is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_opens_one_socket_once() {
    let server = TestServer::start().await;
    let (token, _) = server.create_session(json!({"principal": "alice"})).await;
    let auth = session_header(&token);
    let answer = server.request(Method::POST, "/v1/sync/ticket", &[("authorization", &auth)], None).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let ticket = answer.json()["ticket"].as_str().unwrap().to_owned();
    let path = format!("/v1/sync/user:alice/form?ticket={ticket}");
    let mut client = YClient::connect(server.addr, &path, &[]).await.expect("the ticket opens the socket");
    client.sync().await;
    assert_eq!(
        refused_status(YClient::connect(server.addr, &path, &[]).await.err().unwrap()),
        401,
        "single use"
    );
    server.request(Method::POST, "/v1/sync/ticket", &[], None).await.problem(401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_patches_and_restores_reach_connected_clients() {
    let server = TestServer::start().await;
    let (token, _) = server.create_session(json!({"principal": "alice"})).await;
    let mut client = YClient::connect(
        server.addr,
        "/v1/sync/user:alice/wizard",
        &[("authorization", &session_header(&token))],
    )
    .await
    .unwrap();
    client.sync().await;
    client.set("wizard", "step", 1).await;
    client.set("wizard", "name", "Alice").await;
    let doc = "/v1/docs/user:alice/wizard";
    // Wait until the server has the client's changes, then name a version.
    for _ in 0..100 {
        if server.backend(Method::GET, doc, None).await.json()["wizard"]["name"] == "Alice" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let version = server
        .backend(Method::POST, &format!("{doc}/versions"), Some(json!({"name": "before step 2"})))
        .await;
    assert_eq!(version.status, StatusCode::CREATED);
    let id = version.json()["id"].as_u64().unwrap();

    let patched = server
        .backend(Method::PATCH, doc, Some(json!({"wizard": {"step": 2, "name": null, "plan": "pro"}})))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", String::from_utf8_lossy(&patched.body));
    assert_eq!(patched.json()["wizard"], json!({"step": 2, "plan": "pro"}));
    let expected = json!({"step": 2, "plan": "pro"});
    assert!(
        client.pump_until(|c| c.json("wizard") == expected, Duration::from_secs(2)).await,
        "{}",
        client.json("wizard")
    );

    let versions = server.backend(Method::GET, &format!("{doc}/versions"), None).await.json();
    assert_eq!(versions["versions"][0]["name"], "before step 2");
    let old = server.backend(Method::GET, &format!("{doc}/versions/{id}"), None).await.json();
    assert_eq!(old["content"]["wizard"], json!({"step": 1, "name": "Alice"}));
    let restored = server.backend(Method::POST, &format!("{doc}/versions/{id}/restore"), None).await;
    assert_eq!(restored.status, StatusCode::OK);
    let expected = json!({"step": 1, "name": "Alice"});
    assert!(
        client.pump_until(|c| c.json("wizard") == expected, Duration::from_secs(2)).await,
        "{}",
        client.json("wizard")
    );
    server.backend(Method::GET, &format!("{doc}/versions/999"), None).await.problem(404);
    server.backend(Method::POST, &format!("{doc}/versions/abc/restore"), None).await.problem(400);
    server.backend(Method::PATCH, doc, Some(json!([1]))).await.problem(422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_close_or_refuse_with_clear_reasons() {
    let server = TestServer::start_with(|config| {
        config.sync_limits.max_sockets_per_session = 2;
        config.sync.max_message_bytes = 64 * 1024;
    })
    .await;
    let (token, _) = server.create_session(json!({"principal": "alice"})).await;
    let auth = session_header(&token);
    let headers = [("authorization", auth.as_str())];
    let _one = YClient::connect(server.addr, "/v1/sync/user:alice/a", &headers).await.unwrap();
    let mut two = YClient::connect(server.addr, "/v1/sync/user:alice/b", &headers).await.unwrap();
    assert_eq!(
        refused_status(YClient::connect(server.addr, "/v1/sync/user:alice/c", &headers).await.err().unwrap()),
        429
    );
    two.sync().await;
    two.send_raw(vec![0u8; 100 * 1024]).await;
    let frame = two.wait_closed(Duration::from_secs(3)).await.expect("closed");
    assert_eq!(frame.map(|f| u16::from(f.code)), Some(1009), "too large");
    // The client has the close frame before the server's socket task ends and frees its slot.
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut three = loop {
        match YClient::connect(server.addr, "/v1/sync/user:alice/c", &headers).await {
            Ok(client) => break client,
            Err(error) => {
                let status = refused_status(error);
                assert!(status == 429 && Instant::now() < deadline, "a slot was freed within 3 s: {status}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    // A sync message with an unknown step (types the server does not know are skipped, as
    // y-websocket does, but a malformed known type is refused).
    three.send_raw(vec![0, 9, 0]).await;
    let frame = three.wait_closed(Duration::from_secs(3)).await.expect("closed");
    assert_eq!(frame.map(|f| u16::from(f.code)), Some(1008), "malformed y-websocket");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_per_scope_are_bounded() {
    let server = TestServer::start_with(|config| config.sync_limits.max_docs_per_scope = 2).await;
    for name in ["one", "two"] {
        let answer = server
            .backend(Method::PATCH, &format!("/v1/docs/user:erin/{name}"), Some(json!({"m": {"k": 1}})))
            .await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    let third = server.backend(Method::PATCH, "/v1/docs/user:erin/three", Some(json!({"m": {"k": 1}}))).await;
    assert!(third.problem(409).contains("2 documents, the most allowed"));
    let again = server.backend(Method::PATCH, "/v1/docs/user:erin/two", Some(json!({"m": {"k": 2}}))).await;
    assert_eq!(again.status, StatusCode::OK, "existing documents stay writable");
    let other =
        server.backend(Method::PATCH, "/v1/docs/user:frank/three", Some(json!({"m": {"k": 1}}))).await;
    assert_eq!(other.status, StatusCode::OK, "the limit is per scope");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_expires_and_its_socket_closes_but_socket_activity_keeps_it_alive() {
    let server = TestServer::start_with(|config| config.policy.touch_fraction = 0.1).await;
    let (idle, _) = server.create_session(json!({"principal": "alice", "idle_timeout_secs": 2})).await;
    let (busy, _) = server.create_session(json!({"principal": "alice", "idle_timeout_secs": 2})).await;
    let path = "/v1/sync/user:alice/form";
    let mut quiet =
        YClient::connect(server.addr, path, &[("authorization", &session_header(&idle))]).await.unwrap();
    let mut typing =
        YClient::connect(server.addr, path, &[("authorization", &session_header(&busy))]).await.unwrap();
    quiet.sync().await;
    typing.sync().await;
    let started = Instant::now();
    // The typing client edits every 300 ms for 3.5 s, past its 2 s idle timeout.
    let mut step = 0;
    while started.elapsed() < Duration::from_millis(3500) {
        step += 1;
        typing.set("form", "step", step).await;
        typing.pump_until(|_| false, Duration::from_millis(300)).await;
        assert!(typing.closed.is_none(), "an active socket keeps its session alive");
    }
    let frame = quiet.wait_closed(Duration::from_secs(2)).await.expect("the idle session's socket closed");
    assert_eq!(frame.map(|f| u16::from(f.code)), Some(4401));
    let me = server.get("/v1/me", &[("authorization", &session_header(&busy))]).await;
    assert_eq!(me.status, StatusCode::OK, "the typing session is still valid");
    server.get("/v1/me", &[("authorization", &session_header(&idle))]).await.problem(401);
}
