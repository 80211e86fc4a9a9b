//! The multi-node scenario every shared store runs: two server nodes over one store.

use continuum_backends::StoreConfig;
use hyper::{Method, StatusCode};
use serde_json::json;

use super::{TestServer, config};

/// A session made on A is valid on B, B's write is A's read, a revocation on B is refused on A
/// at once, and A's restart loses nothing.
pub async fn two_nodes_share_sessions(store: StoreConfig) {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = TestServer::start_on(config(dirs.0.path()), &store).await;
    let b = TestServer::start_on(config(dirs.1.path()), &store).await;

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
    let a = TestServer::start_on(config(dirs.0.path()), &store).await;
    let again = a.backend(Method::POST, "/v1/sessions/validate", Some(json!({ "token": kept }))).await;
    assert_eq!(again.status, StatusCode::OK, "nothing lost across a node restart");
    a.stop().await;
    b.stop().await;
}

/// Live fan-out between two nodes over one store's bus: a document edited by a client of A
/// reaches a client of B in real time (and the reverse), a backend patch through B reaches A's
/// client, a session revoked through B closes its socket on A at once and appears on A's
/// `/v1/events` stream, and a sign-out everywhere through A reaches B's validations and its
/// `/v1/events` stream. The sockets' periodic
/// session check is set to a minute, so only the bus can close the socket in time.
pub async fn two_nodes_fan_out_live(store: StoreConfig) {
    use std::time::Duration;

    use super::yclient::YClient;

    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Nodes share one sealing key ring, as a deployment configures them.
    let ring = vec![continuum_core::seal::SealKey::generate().to_secret_text()];
    let node = |dir: &std::path::Path| {
        let mut config = config(dir);
        config.sealing_keys = ring.clone();
        config.sync_limits.session_check = Duration::from_secs(60);
        // Cached epochs would otherwise expire within a second; only the bus can beat a minute.
        config.epoch_ttl = Duration::from_secs(60);
        config
    };
    let a = TestServer::start_on(node(dirs.0.path()), &store).await;
    let b = TestServer::start_on(node(dirs.1.path()), &store).await;
    let (alice_a, alice_session) = a.create_session(json!({"principal": "alice"})).await;
    let (alice_b, _) = b.create_session(json!({"principal": "alice"})).await;
    let path = "/v1/sync/user:alice/draft";
    let header = |token: &str| format!("Session {token}");
    let mut on_a = YClient::connect(a.addr, path, &[("authorization", &header(&alice_a))]).await.unwrap();
    let mut on_b = YClient::connect(b.addr, path, &[("authorization", &header(&alice_b))]).await.unwrap();
    on_a.sync().await;
    on_b.sync().await;

    on_a.set("form", "title", "written on A").await;
    let arrived = on_b.pump_until(|client| client.json("form")["title"] == "written on A", SOON).await;
    assert!(arrived, "A's edit reached B's client: {}", on_b.json("form"));
    on_b.set("form", "city", "Lyon").await;
    let arrived = on_a.pump_until(|client| client.json("form")["city"] == "Lyon", SOON).await;
    assert!(arrived, "B's edit reached A's client: {}", on_a.json("form"));

    let patched =
        b.backend(Method::PATCH, "/v1/docs/user:alice/draft", Some(json!({"form": {"step": 3}}))).await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.json());
    let arrived = on_a.pump_until(|client| client.json("form")["step"] == 3, SOON).await;
    assert!(arrived, "a backend patch through B reached A's client: {}", on_a.json("form"));
    let view = a.backend(Method::GET, "/v1/docs/user:alice/draft", None).await.json();
    assert_eq!(view["form"], json!({"title": "written on A", "city": "Lyon", "step": 3}), "{view}");

    let auth = format!("Bearer {}", super::KEY);
    let mut events_on_a =
        super::sse::SseReader::open(a.addr, "/v1/events", &[("authorization", &auth)]).await;
    let sid = alice_session["sid"].as_str().unwrap();
    let revoked_at = std::time::Instant::now();
    assert_eq!(
        b.backend(Method::DELETE, &format!("/v1/sessions/{sid}"), None).await.status,
        StatusCode::NO_CONTENT
    );
    let frame = on_a.wait_closed(SOON).await.expect("A closed the revoked session's socket");
    assert_eq!(frame.map(|frame| u16::from(frame.code)), Some(4401));
    assert!(revoked_at.elapsed() < Duration::from_secs(5), "well before the minute-long periodic check");
    assert!(on_b.closed.is_none(), "the other session's socket stays open");
    let event = events_on_a.next(SOON).await.expect("A's event stream tells of B's revocation");
    assert_eq!((event.event.as_str(), event.data["sid"].as_str()), ("revoked", Some(sid)), "{event:?}");
    drop(events_on_a);

    // Sealed tokens: a sign-out everywhere through A is refused on B at once, though B had the
    // principal's epoch cached for a minute.
    let sealed =
        a.backend(Method::POST, "/v1/sessions", Some(json!({"principal": "carol", "sealed": true}))).await;
    assert_eq!(sealed.status, StatusCode::CREATED, "{:?}", sealed.json());
    let sealed = sealed.json()["token"].as_str().unwrap().to_owned();
    let validate = json!({ "token": sealed });
    assert_eq!(
        b.backend(Method::POST, "/v1/sessions/validate", Some(validate.clone())).await.status,
        StatusCode::OK
    );
    let mut events_on_b =
        super::sse::SseReader::open(b.addr, "/v1/events", &[("authorization", &auth)]).await;
    let signed_out = a.backend(Method::DELETE, "/v1/principals/carol/sessions", None).await;
    assert_eq!(signed_out.status, StatusCode::OK, "{:?}", signed_out.json());
    let event = events_on_b.next(SOON).await.expect("B's event stream tells of A's sign-out everywhere");
    assert_eq!(
        (event.event.as_str(), event.data["principal"].as_str()),
        ("signed_out_everywhere", Some("carol")),
        "{event:?}"
    );
    drop(events_on_b);
    let deadline = std::time::Instant::now() + SOON;
    loop {
        let answer = b.backend(Method::POST, "/v1/sessions/validate", Some(validate.clone())).await;
        if answer.status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "B still accepts the signed-out sealed token");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    drop((on_a, on_b));
    a.stop().await;
    b.stop().await;
}

/// How long a live change may take to cross nodes in these tests (generous: the machine is shared).
const SOON: std::time::Duration = std::time::Duration::from_secs(5);
