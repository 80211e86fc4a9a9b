//! Issue 18, findings 1–3 and 8, over real sockets: the session cookie is accepted on sync
//! sockets and unsafe requests only from an allowed origin, refused ones change nothing, guest
//! sessions and handoff redemption refuse foreign browsers and a guest never replaces a live
//! session, and every answer carrying a session, a token or a code is `no-store`.

mod common;

use std::time::Duration;

use common::yclient::YClient;
use common::{Answer, TestServer};
use hyper::{Method, StatusCode};
use serde_json::json;
use tokio_tungstenite::tungstenite;

const EVIL: &str = "https://evil.example";

/// The server's own origin as the test client reaches it (`Host: 127.0.0.1:<port>`, not dev).
fn own(server: &TestServer) -> String {
    format!("https://{}", server.addr)
}

fn cookie(token: &str) -> String {
    format!("__Host-continuum={token}")
}

/// Asserts the 403 `origin-not-allowed` problem, and that it names `origin`.
fn assert_origin_refused(answer: &Answer, origin: &str) {
    let detail = answer.problem(403);
    assert_eq!(answer.json()["type"], "urn:continuum:problem:origin-not-allowed");
    assert!(detail.contains(origin), "{detail}");
    assert!(answer.header("set-cookie").is_none(), "a refused request leaves the cookie alone");
}

/// The hostile variants of a browser request: another site, an opaque origin, none at all.
fn hostile() -> [(Option<&'static str>, &'static str); 3] {
    [(Some(EVIL), EVIL), (Some("null"), "null"), (None, "Origin")]
}

fn refused_ws(error: tungstenite::Error) -> (u16, String) {
    match error {
        tungstenite::Error::Http(response) => (
            response.status().as_u16(),
            String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into_owned(),
        ),
        other => panic!("expected an HTTP refusal, got {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_socket_opened_with_the_cookie_needs_an_allowed_origin() {
    let server = TestServer::start_with(|config| {
        config.allowed_origins = vec!["https://app.example".parse().unwrap()];
    })
    .await;
    let (token, _) = server.create_session(json!({"principal": "alice"})).await;
    let patched = server
        .backend(Method::PATCH, "/v1/docs/user:alice/secret", Some(json!({"note": {"text": "for alice"}})))
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", String::from_utf8_lossy(&patched.body));
    let path = "/v1/sync/user:alice/secret";
    let cookie = cookie(&token);
    for (origin, named) in hostile() {
        let mut headers = vec![("cookie", cookie.as_str())];
        headers.extend(origin.map(|origin| ("origin", origin)));
        let (status, body) =
            refused_ws(YClient::connect(server.addr, path, &headers).await.err().expect("refused"));
        assert_eq!(status, 403, "{origin:?}: {body}");
        assert!(body.contains("origin-not-allowed") && body.contains(named), "{body}");
    }
    let own = own(&server);
    for origin in [own.as_str(), "https://app.example"] {
        let mut client = YClient::connect(server.addr, path, &[("cookie", &cookie), ("origin", origin)])
            .await
            .unwrap_or_else(|error| panic!("{origin}: {error}"));
        client.sync().await;
        assert_eq!(client.json("note")["text"], "for alice");
    }
    // A header token is not sent by a browser on its own: no Origin needed.
    let auth = format!("Session {token}");
    let mut client = YClient::connect(server.addr, path, &[("authorization", &auth)]).await.expect("opens");
    client.sync().await;
    assert_eq!(client.json("note")["text"], "for alice");
    server.stop().await;
}

/// The client plane's cookie-authenticated unsafe requests, refused from hostile origins with
/// nothing changed, then accepted from the server's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsafe_requests_with_the_cookie_need_an_allowed_origin_and_refused_ones_change_nothing() {
    let server = TestServer::start().await;
    let (laptop, _) = server.create_session(json!({"principal": "dana"})).await;
    let (_, phone) = server.create_session(json!({"principal": "dana"})).await;
    let phone_sid = phone["sid"].as_str().unwrap().to_owned();
    let cookie = cookie(&laptop);
    let device = format!("/v1/me/devices/{phone_sid}");
    let routes = [
        (Method::POST, "/v1/me/handoff"),
        (Method::POST, "/v1/sync/ticket"),
        (Method::DELETE, device.as_str()),
        (Method::DELETE, "/v1/me"),
    ];
    for (method, path) in &routes {
        for (origin, named) in hostile() {
            // What a hostile page can send: the cookie comes along, the body is text/plain.
            let mut headers = vec![("cookie", cookie.as_str()), ("content-type", "text/plain")];
            headers.extend(origin.map(|origin| ("origin", origin)));
            let answer = server.request(method.clone(), path, &headers, Some(b"{}".to_vec())).await;
            assert_origin_refused(&answer, named);
        }
    }
    // Nothing changed: both devices still listed, both sessions live.
    let devices = server.get("/v1/me/devices", &[("cookie", &cookie), ("origin", EVIL)]).await;
    assert_eq!(devices.status, StatusCode::OK, "safe methods stay open");
    assert_eq!(devices.json()["sessions"].as_array().unwrap().len(), 2);
    let phone_now = server.backend(Method::GET, &format!("/v1/sessions/{phone_sid}"), None).await.json();
    assert_eq!(phone_now["session"]["status"], "active");

    let own = own(&server);
    let from_own = |method: Method, path: &'static str| {
        let headers = [("cookie", cookie.as_str()), ("origin", own.as_str())];
        let path = path.to_owned();
        let server = &server;
        async move { server.request(method, &path, &headers, None).await }
    };
    assert_eq!(from_own(Method::POST, "/v1/me/handoff").await.status, StatusCode::CREATED);
    assert_eq!(from_own(Method::POST, "/v1/sync/ticket").await.status, StatusCode::CREATED);
    let answer =
        server.request(Method::DELETE, &device, &[("cookie", &cookie), ("origin", &own)], None).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let phone_now = server.backend(Method::GET, &format!("/v1/sessions/{phone_sid}"), None).await.json();
    assert_eq!(phone_now["session"]["status"], "revoked");
    assert_eq!(from_own(Method::DELETE, "/v1/me").await.status, StatusCode::NO_CONTENT);
    server.get("/v1/me", &[("cookie", &cookie)]).await.problem(401);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_header_needs_no_origin() {
    let server = TestServer::start().await;
    let (token, _) = server.create_session(json!({"principal": "erin"})).await;
    let auth = format!("Session {token}");
    for origin in [None, Some(EVIL)] {
        let mut headers = vec![("authorization", auth.as_str())];
        headers.extend(origin.map(|origin| ("origin", origin)));
        let answer = server.request(Method::POST, "/v1/me/handoff", &headers, None).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{origin:?}");
        let answer = server.request(Method::POST, "/v1/sync/ticket", &headers, None).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{origin:?}");
    }
    let answer = server.request(Method::DELETE, "/v1/me", &[("authorization", &auth)], None).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demos_task_needs_an_allowed_origin_with_the_cookie() {
    let server = TestServer::start_demo(|config| config.guest.enabled = true).await;
    let (token, _) = server.create_session(json!({"principal": "fay"})).await;
    let cookie = cookie(&token);
    for (origin, named) in hostile() {
        let mut headers = vec![("cookie", cookie.as_str())];
        headers.extend(origin.map(|origin| ("origin", origin)));
        assert_origin_refused(&server.request(Method::POST, "/demo/api/pdf", &headers, None).await, named);
    }
    let document = server.backend(Method::GET, "/v1/docs/user:fay/demo-trip", None).await;
    assert!(
        document.status == StatusCode::NOT_FOUND || document.json().get("task").is_none(),
        "no task started"
    );
    let own = own(&server);
    let started =
        server.request(Method::POST, "/demo/api/pdf", &[("cookie", &cookie), ("origin", &own)], None).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", String::from_utf8_lossy(&started.body));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_sessions_refuse_foreign_browsers_and_never_replace_a_live_session() {
    let server = TestServer::start_with(|config| {
        config.guest.enabled = true;
        config.guest.burst = 10;
    })
    .await;
    let own = own(&server);
    // A cross-site form post (and its variants) gets no session and no cookie.
    let form = ("content-type", "application/x-www-form-urlencoded");
    for origin in [EVIL, "null"] {
        let answer = server.request(Method::POST, "/v1/guest", &[("origin", origin), form], None).await;
        assert_origin_refused(&answer, origin);
    }
    let (victim, victim_session) = server.create_session(json!({"principal": "gil"})).await;
    let victim_cookie = cookie(&victim);
    let answer = server.request(Method::POST, "/v1/guest", &[("cookie", &victim_cookie), form], None).await;
    assert_origin_refused(&answer, "Origin");
    let answer = server
        .request(Method::POST, "/v1/guest", &[("cookie", &victim_cookie), ("origin", EVIL), form], None)
        .await;
    assert_origin_refused(&answer, EVIL);

    // From the own origin, a live session is not replaced.
    let answer = server
        .request(Method::POST, "/v1/guest", &[("cookie", &victim_cookie), ("origin", &own)], None)
        .await;
    assert!(answer.problem(409).contains("sign out"));
    assert_eq!(answer.json()["type"], "urn:continuum:problem:already-signed-in");
    assert!(answer.header("set-cookie").is_none());
    let me = server.get("/v1/me", &[("cookie", &victim_cookie)]).await;
    assert_eq!(me.json()["session"]["sid"], victim_session["sid"], "the victim is still signed in");

    // A browser of the own origin without a session, or with a dead one, gets a guest session.
    let answer = server.request(Method::POST, "/v1/guest", &[("origin", &own)], None).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let revoked = server
        .backend(Method::DELETE, &format!("/v1/sessions/{}", victim_session["sid"].as_str().unwrap()), None)
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let answer = server
        .request(Method::POST, "/v1/guest", &[("cookie", &victim_cookie), ("origin", &own)], None)
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&answer.body));
    assert!(answer.header("set-cookie").unwrap().starts_with("__Host-continuum="));
    // A client that is not a browser (no Cookie, no Origin) is served as before.
    assert_eq!(server.request(Method::POST, "/v1/guest", &[], None).await.status, StatusCode::CREATED);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeeming_refuses_foreign_browsers_without_using_the_code() {
    let server = TestServer::start().await;
    let (token, _) = server.create_session(json!({"principal": "hal"})).await;
    let auth = format!("Session {token}");
    let offer =
        server.request(Method::POST, "/v1/me/handoff", &[("authorization", &auth)], None).await.json();
    let body = serde_json::to_vec(&json!({"code": offer["code"]})).unwrap();
    let json = ("content-type", "application/json");
    for origin in [EVIL, "null"] {
        let answer = server
            .request(Method::POST, "/v1/handoff/redeem", &[("origin", origin), json], Some(body.clone()))
            .await;
        assert_origin_refused(&answer, origin);
    }
    let own = own(&server);
    let answer =
        server.request(Method::POST, "/v1/handoff/redeem", &[("origin", &own), json], Some(body)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "the refused attempts left the code unused");
    server.stop().await;
}

fn assert_no_store(answer: &Answer, what: &str) {
    assert_eq!(answer.header("cache-control"), Some("no-store"), "{what}: {:?}", answer.headers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_carrying_a_session_a_token_or_a_code_are_not_stored() {
    let server = TestServer::start_with(|config| config.guest.enabled = true).await;
    let created = server.backend(Method::POST, "/v1/sessions", Some(json!({"principal": "ivy"}))).await;
    assert_no_store(&created, "POST /v1/sessions");
    let token = created.json()["token"].as_str().unwrap().to_owned();
    let sid = created.json()["session"]["sid"].as_str().unwrap().to_owned();
    let session = format!("/v1/sessions/{sid}");
    let validated =
        server.backend(Method::POST, "/v1/sessions/validate", Some(json!({"token": token}))).await;
    assert_no_store(&validated, "validate");
    assert_no_store(&server.backend(Method::GET, &session, None).await, "GET session");
    let patched = server
        .backend_with(
            Method::PATCH,
            &format!("{session}/attributes"),
            &[("content-type", "application/merge-patch+json")],
            Some(json!({"cart": 1})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_no_store(&patched, "patch");
    assert_no_store(
        &server.backend(Method::GET, "/v1/principals/ivy/sessions", None).await,
        "principal's sessions",
    );
    let rotated = server.backend(Method::POST, &format!("{session}/rotate"), None).await;
    assert_eq!(rotated.status, StatusCode::OK);
    assert_no_store(&rotated, "rotate");
    let token = rotated.json()["token"].as_str().unwrap().to_owned();

    let auth = format!("Session {token}");
    let me = server.get("/v1/me", &[("authorization", &auth)]).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_no_store(&me, "/v1/me");
    assert_no_store(&server.get("/v1/me", &[]).await, "a refused /v1/me");
    assert_no_store(&server.get("/v1/me/devices", &[("authorization", &auth)]).await, "devices");
    let offer = server.request(Method::POST, "/v1/me/handoff", &[("authorization", &auth)], None).await;
    assert_no_store(&offer, "handoff offer");
    let body = serde_json::to_vec(&json!({"code": offer.json()["code"]})).unwrap();
    let redeemed = server
        .request(Method::POST, "/v1/handoff/redeem", &[("content-type", "application/json")], Some(body))
        .await;
    assert_eq!(redeemed.status, StatusCode::CREATED);
    assert_no_store(&redeemed, "redeem");
    assert_no_store(
        &server.request(Method::POST, "/v1/sync/ticket", &[("authorization", &auth)], None).await,
        "ticket",
    );
    let guest = server.request(Method::POST, "/v1/guest", &[], None).await;
    assert_eq!(guest.status, StatusCode::CREATED);
    assert_no_store(&guest, "guest");
    assert_eq!(server.get("/healthz", &[]).await.header("cache-control"), None, "other answers as before");
    tokio::time::sleep(Duration::from_millis(1)).await;
    server.stop().await;
}
