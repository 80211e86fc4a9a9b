//! Sealed sessions over a real socket: issue, validate without a stored session, sign out
//! everywhere, share a key ring between nodes and rotate it, the key file, the cookie budget.

mod common;

use common::TestServer;
use continuum_core::SealKey;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

async fn validate(server: &TestServer, token: &str) -> common::Answer {
    server.backend(Method::POST, "/v1/sessions/validate", Some(json!({ "token": token }))).await
}

async fn create_sealed(server: &TestServer, principal: &str) -> (String, Value) {
    server
        .create_session(json!({
            "principal": principal,
            "sealed": true,
            "device": {"label": "phone"},
            "attributes": {"theme": "dark"},
        }))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_session_lives_in_its_token_and_dies_with_its_epoch() {
    let server = TestServer::start().await;
    let (token, session) = create_sealed(&server, "alice").await;
    assert!(token.starts_with("cs~") && !token.contains('.'), "{token}");
    assert_eq!(session["sealed"], true);
    assert_eq!(session["version"], 0);
    assert_eq!(session["principal"], "alice");
    let sid = session["sid"].as_str().unwrap();
    let stored = server.backend(Method::GET, &format!("/v1/sessions/{sid}"), None).await;
    assert_eq!(stored.status, StatusCode::NOT_FOUND, "nothing is stored");

    let answer = validate(&server, &token).await;
    assert_eq!(answer.status, StatusCode::OK);
    let body = answer.json();
    assert_eq!(body["session"]["sid"], sid);
    assert_eq!(body["session"]["attributes"], json!({"theme": "dark"}));
    assert_eq!(body["session"]["device"], json!({"label": "phone"}));
    assert_eq!(body["session"]["status"], "active");
    assert!(body.get("token").is_none(), "no touch due yet: no new token");

    // A stored session of the same principal, and another principal's sealed session.
    let (stored_token, _) = server.create_session(json!({"principal": "alice"})).await;
    let (bob, _) = create_sealed(&server, "bob").await;
    let answer = server.backend(Method::DELETE, "/v1/principals/alice/sessions", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"revoked": 1, "epoch": 1}));
    let detail = validate(&server, &token).await.problem(401);
    assert!(detail.contains("signed out everywhere"), "{detail}");
    assert!(validate(&server, &stored_token).await.problem(401).contains("revoked"));
    assert_eq!(validate(&server, &bob).await.status, StatusCode::OK, "bob is untouched");
    let (fresh, _) = create_sealed(&server, "alice").await;
    assert_eq!(validate(&server, &fresh).await.status, StatusCode::OK, "issued at the new epoch");

    // The client plane takes stored tokens only, and says where sealed ones go.
    let auth = format!("Session {fresh}");
    let detail = server.get("/v1/me", &[("authorization", &auth)]).await.problem(401);
    assert!(detail.contains("/v1/sessions/validate"), "{detail}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_sharing_a_ring_validate_each_others_tokens_and_rotation_keeps_users_signed_in() {
    let (old, new) = (SealKey::generate(), SealKey::generate());
    let ring = |keys: &[&SealKey]| keys.iter().map(|key| key.to_secret_text()).collect::<Vec<_>>();
    let a = TestServer::start_with(|config| config.sealing_keys = ring(&[&old])).await;
    let b = TestServer::start_with(|config| config.sealing_keys = ring(&[&old])).await;
    let rotated = TestServer::start_with(|config| config.sealing_keys = ring(&[&new, &old])).await;
    let retired = TestServer::start_with(|config| config.sealing_keys = ring(&[&new])).await;
    let (token, _) = create_sealed(&a, "alice").await;
    assert_eq!(validate(&b, &token).await.status, StatusCode::OK, "another node of the same ring");
    assert_eq!(validate(&rotated, &token).await.status, StatusCode::OK, "the old key still opens");
    let detail = validate(&retired, &token).await.problem(401);
    assert!(detail.contains(&old.id().to_string()) && detail.contains("does not hold"), "{detail}");
    let (after, _) = create_sealed(&rotated, "alice").await;
    assert_eq!(validate(&retired, &after).await.status, StatusCode::OK, "sealed under the new key");
    for server in [a, b, rotated, retired] {
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_configured_keys_the_first_start_writes_a_private_key_file_and_reuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(dir.path());
    let server = TestServer::start_config(config.clone()).await;
    let (token, _) = create_sealed(&server, "alice").await;
    server.stop().await;
    let path = dir.path().join("sealing-keys");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().filter(|line| line.starts_with("sk_")).count(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let server = TestServer::start_config(config).await;
    assert_eq!(validate(&server, &token).await.status, StatusCode::OK, "the key survived the restart");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_too_large_for_a_cookie_is_refused_and_the_same_is_fine_stored() {
    let server = TestServer::start().await;
    let attributes: serde_json::Map<String, Value> =
        (0..4).map(|i| (format!("k{i}"), json!("x".repeat(1500)))).collect();
    let body = json!({"principal": "alice", "sealed": true, "attributes": attributes});
    let answer = server.backend(Method::POST, "/v1/sessions", Some(body.clone())).await;
    let detail = answer.problem(422);
    assert!(detail.contains("4096") && detail.contains("cookie"), "{detail}");
    assert_eq!(answer.json()["type"], "urn:continuum:problem:sealed-token-too-large");
    let mut stored = body;
    stored["sealed"] = json!(false);
    assert_eq!(server.backend(Method::POST, "/v1/sessions", Some(stored)).await.status, StatusCode::CREATED);
    server.stop().await;
}

/// Finding 11 (ASVS 3.3.1): one sealed session revoked by `DELETE /v1/sessions/{sid}` with its
/// token: the token and a re-sealed copy are refused, the principal's other sessions live on,
/// and bad requests are 4xx problems.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sealed_session_is_revoked_with_its_token_and_its_copies_die_with_it() {
    let server = TestServer::start_with(|config| config.policy.touch_fraction = 0.0).await;
    let (token, session) = create_sealed(&server, "alice").await;
    let (other, other_session) = create_sealed(&server, "alice").await;
    let sid = session["sid"].as_str().unwrap();
    let path = format!("/v1/sessions/{sid}");
    // A touch is due once any time has passed (touch fraction 0): the answer carries a copy.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let copy = validate(&server, &token).await.json()["token"].as_str().expect("a re-sealed copy").to_owned();

    let without = server.backend(Method::DELETE, &path, None).await;
    assert!(without.problem(404).contains("no session"), "nothing stored, no token: as before");
    server.backend(Method::DELETE, &path, Some(Value::Null)).await.problem(404);
    let other_path = format!("/v1/sessions/{}", other_session["sid"].as_str().unwrap());
    let mismatch = server.backend(Method::DELETE, &other_path, Some(json!({ "token": token }))).await;
    assert!(mismatch.problem(422).contains(sid), "the token names another session");
    let forged = server.backend(Method::DELETE, &path, Some(json!({ "token": "cs~AAAA" }))).await;
    forged.problem(401);
    let unknown = server.backend(Method::DELETE, &path, Some(json!({ "token": token, "x": 1 }))).await;
    unknown.problem(422);
    let not_json = server.backend(Method::DELETE, &path, Some(json!("x"))).await;
    not_json.problem(422);
    let text = server
        .request(
            Method::DELETE,
            &path,
            &[("authorization", "Bearer test-api-key"), ("content-type", "text/plain")],
            Some(b"x".to_vec()),
        )
        .await;
    text.problem(415);
    assert_eq!(validate(&server, &token).await.status, StatusCode::OK, "refused requests changed nothing");

    let revoked = server.backend(Method::DELETE, &path, Some(json!({ "token": token }))).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", String::from_utf8_lossy(&revoked.body));
    for token in [&token, &copy] {
        let detail = validate(&server, token).await.problem(401);
        assert!(detail.contains("revoked"), "{detail}");
    }
    assert_eq!(validate(&server, &other).await.status, StatusCode::OK, "alice's other session lives");
    let again = server.backend(Method::DELETE, &path, Some(json!({ "token": copy }))).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT, "revoking twice is a no-op");
    assert_eq!(server.backend(Method::DELETE, &path, None).await.status, StatusCode::NO_CONTENT);
    server.stop().await;
}
