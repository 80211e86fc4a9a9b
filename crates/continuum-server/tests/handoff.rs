//! Handoff: a code from one signed-in device gives another device its own session for the same
//! principal — once, within two minutes, and not after the issuing session ends.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use common::TestServer;
use continuum_core::{KeyRing, ManualClock, SealKey, Timestamp};
use continuum_server::api_keys::ApiKeys;
use continuum_server::cookie::CookieConfig;
use continuum_server::metrics::Metrics;
use continuum_server::{AppState, Docs, GuestConfig, app};
use continuum_store::{MemoryStore, SealedConfig, SealedSessions, Sessions};
use http_body_util::BodyExt;
use hyper::{Method, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_moves_the_user_to_a_new_device_once() {
    let server = TestServer::start().await;
    let (laptop, laptop_session) = server.create_session(json!({"principal": "alice"})).await;
    let laptop_auth = format!("Session {laptop}");
    server.request(Method::POST, "/v1/me/handoff", &[], None).await.problem(401);

    let offer =
        server.request(Method::POST, "/v1/me/handoff", &[("authorization", &laptop_auth)], None).await;
    assert_eq!(offer.status, StatusCode::CREATED);
    let offer = offer.json();
    let code = offer["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 8);
    assert!(code.bytes().all(|b| b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ".contains(&b)), "{code}");
    assert!(offer["expires_at"].as_str().unwrap().ends_with('Z'));

    // Typed by a person on the phone: lower case with a dash.
    let typed = format!("{}-{}", code[..4].to_lowercase(), &code[4..]);
    let headers = [("content-type", "application/json"), ("user-agent", "Phone/1")];
    let body = serde_json::to_vec(&json!({ "code": typed })).unwrap();
    let redeemed = server.request(Method::POST, "/v1/handoff/redeem", &headers, Some(body.clone())).await;
    assert_eq!(redeemed.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&redeemed.body));
    let cookie = redeemed.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let phone = redeemed.json();
    assert_eq!(phone["session"]["principal"], "alice");
    assert_ne!(phone["session"]["sid"], laptop_session["sid"], "the new device has its own session");
    assert_eq!(phone["session"]["device"]["user_agent"], "Phone/1");
    let me = server.get("/v1/me", &[("cookie", &cookie)]).await;
    assert_eq!(me.json()["session"]["sid"], phone["session"]["sid"]);
    let devices = server.get("/v1/me/devices", &[("cookie", &cookie)]).await.json();
    assert_eq!(devices["sessions"].as_array().unwrap().len(), 2);

    let again = server.request(Method::POST, "/v1/handoff/redeem", &headers, Some(body)).await;
    assert!(again.problem(404).contains("not valid"), "a code works once");

    // A code dies with the session that asked for it.
    let offer =
        server.request(Method::POST, "/v1/me/handoff", &[("authorization", &laptop_auth)], None).await;
    let code = offer.json()["code"].as_str().unwrap().to_owned();
    assert_eq!(
        server.request(Method::DELETE, "/v1/me", &[("authorization", &laptop_auth)], None).await.status,
        StatusCode::NO_CONTENT
    );
    let body = serde_json::to_vec(&json!({ "code": code })).unwrap();
    server.request(Method::POST, "/v1/handoff/redeem", &headers, Some(body)).await.problem(404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_redemptions_are_rate_limited_per_address() {
    let server = TestServer::start().await;
    let (token, _) = server.create_session(json!({"principal": "bob"})).await;
    let auth = format!("Session {token}");
    let offer = server.request(Method::POST, "/v1/me/handoff", &[("authorization", &auth)], None).await;
    let good = offer.json()["code"].as_str().unwrap().to_owned();
    let headers = [("content-type", "application/json")];
    for wrong in ["ZZZZZZZZ", "22222222", "not-a-code", "ABCDEFGH", "XXXXXXXX"] {
        let body = serde_json::to_vec(&json!({ "code": wrong })).unwrap();
        let answer = server.request(Method::POST, "/v1/handoff/redeem", &headers, Some(body)).await;
        assert!(
            answer.status == StatusCode::NOT_FOUND || answer.status == StatusCode::BAD_REQUEST,
            "{wrong}"
        );
    }
    let body = serde_json::to_vec(&json!({ "code": good })).unwrap();
    let limited = server.request(Method::POST, "/v1/handoff/redeem", &headers, Some(body)).await;
    assert!(limited.problem(429).contains("retry"));
    assert!(limited.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    server.stop().await;
}

async fn call(
    app: &axum::Router,
    method: Method,
    path: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path).header("content-type", "application/json");
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let mut request = request.body(Body::from(body.map(|b| b.to_string()).unwrap_or_default())).unwrap();
    request.extensions_mut().insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9))));
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_code_expires_after_two_minutes() {
    let clock = ManualClock::new(Timestamp::from_millis(1_800_000_000_000));
    let store = Arc::new(MemoryStore::new());
    let sessions = Sessions::new(Arc::clone(&store) as _, Arc::new(clock.clone()));
    let ring = KeyRing::new(vec![SealKey::generate()]).unwrap();
    let sealed =
        SealedSessions::new(ring, store, Arc::new(clock.clone()), SealedConfig::new("__Host-continuum"));
    let state = AppState::new(
        sessions,
        sealed,
        Docs::in_memory(Arc::new(clock.clone())),
        ApiKeys::new(&["key-0123456789abcdef"]),
        CookieConfig::new(false),
        &GuestConfig::default(),
        Arc::new(Metrics::new()),
    );
    let app = app(state);
    let (status, created) = call(
        &app,
        Method::POST,
        "/v1/sessions",
        Some("Bearer key-0123456789abcdef"),
        Some(json!({"principal": "carol"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let auth = format!("Session {}", created["token"].as_str().unwrap());
    let mut codes = Vec::new();
    for _ in 0..2 {
        let (status, offer) = call(&app, Method::POST, "/v1/me/handoff", Some(&auth), None).await;
        assert_eq!(status, StatusCode::CREATED);
        codes.push(offer["code"].as_str().unwrap().to_owned());
    }
    clock.advance(Duration::from_secs(119));
    let (status, _) =
        call(&app, Method::POST, "/v1/handoff/redeem", None, Some(json!({"code": codes[0]}))).await;
    assert_eq!(status, StatusCode::CREATED, "valid just before two minutes");
    clock.advance(Duration::from_secs(1));
    let (status, problem) =
        call(&app, Method::POST, "/v1/handoff/redeem", None, Some(json!({"code": codes[1]}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "expired at two minutes");
    assert!(problem["detail"].as_str().unwrap().contains("expired"));
}

/// A code redeemed in a browser already signed in: the replaced session of the same user is
/// revoked (ASVS 5.0 7.2.4: the current token ends when a new one is issued), another user's
/// live session is refused with 409 and the code stays unused, a dead cookie is just replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeeming_over_a_live_session_revokes_it_or_refuses_another_users_code() {
    let server = TestServer::start().await;
    let own = format!("https://{}", server.addr);
    let json = ("content-type", "application/json");
    let offer = |token: String| {
        let server = &server;
        async move {
            let auth = format!("Session {token}");
            let offer =
                server.request(Method::POST, "/v1/me/handoff", &[("authorization", &auth)], None).await;
            serde_json::to_vec(&json!({"code": offer.json()["code"]})).unwrap()
        }
    };
    let (laptop, _) = server.create_session(json!({"principal": "ann"})).await;
    let (old_phone, old_phone_session) = server.create_session(json!({"principal": "ann"})).await;
    let old_cookie = format!("__Host-continuum={old_phone}");

    let code = offer(laptop.clone()).await;
    let headers = [("cookie", old_cookie.as_str()), ("origin", own.as_str()), json];
    let redeemed = server.request(Method::POST, "/v1/handoff/redeem", &headers, Some(code)).await;
    assert_eq!(redeemed.status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&redeemed.body));
    let new_cookie = redeemed.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    assert_eq!(server.get("/v1/me", &[("cookie", &new_cookie)]).await.status, StatusCode::OK);
    server.get("/v1/me", &[("cookie", &old_cookie)]).await.problem(401);
    let sid = old_phone_session["sid"].as_str().unwrap();
    let replaced = server.backend(Method::GET, &format!("/v1/sessions/{sid}"), None).await.json();
    assert_eq!(replaced["session"]["status"], "revoked", "the replaced session is signed out");

    // Another user's live session in the browser: refused, nothing changed, the code unused.
    let (bob, _) = server.create_session(json!({"principal": "bob"})).await;
    let bob_cookie = format!("__Host-continuum={bob}");
    let code = offer(laptop.clone()).await;
    let headers = [("cookie", bob_cookie.as_str()), ("origin", own.as_str()), json];
    let refused = server.request(Method::POST, "/v1/handoff/redeem", &headers, Some(code.clone())).await;
    assert!(refused.problem(409).contains("sign out"));
    assert_eq!(refused.json()["type"], "urn:continuum:problem:already-signed-in");
    assert!(refused.header("set-cookie").is_none());
    assert_eq!(server.get("/v1/me", &[("cookie", &bob_cookie)]).await.json()["session"]["principal"], "bob");
    let elsewhere = server.request(Method::POST, "/v1/handoff/redeem", &[json], Some(code)).await;
    assert_eq!(elsewhere.status, StatusCode::CREATED, "the refused attempt left the code unused");

    // A dead cookie (the revoked one) is replaced without fuss.
    let code = offer(laptop).await;
    let headers = [("cookie", old_cookie.as_str()), ("origin", own.as_str()), json];
    let answer = server.request(Method::POST, "/v1/handoff/redeem", &headers, Some(code)).await;
    assert_eq!(answer.status, StatusCode::CREATED);
    server.stop().await;
}
