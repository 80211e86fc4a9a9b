//! Limits per session and per principal (issue 18, findings 4 and 5): one session cannot fill
//! the node's table of handoff codes or sync tickets, one user cannot mint sessions without end
//! through handoff redemptions, and a principal's live sessions are capped (the oldest signed
//! out).

mod common;

use common::TestServer;
use hyper::{Method, StatusCode};
use serde_json::json;

async fn offer(server: &TestServer, token: &str) -> common::Answer {
    let auth = format!("Session {token}");
    server.request(Method::POST, "/v1/me/handoff", &[("authorization", &auth)], None).await
}

async fn redeem(server: &TestServer, code: &str) -> common::Answer {
    let body = serde_json::to_vec(&json!({ "code": code })).unwrap();
    let headers = [("content-type", "application/json")];
    server.request(Method::POST, "/v1/handoff/redeem", &headers, Some(body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_codes_from_one_session_is_capped_and_others_still_get_codes() {
    let server = TestServer::start_with(|config| config.client_limits.handoff_codes_per_session = 3).await;
    let (flooder, _) = server.create_session(json!({"principal": "mallory"})).await;
    let (victim, _) = server.create_session(json!({"principal": "alice"})).await;
    for _ in 0..3 {
        assert_eq!(offer(&server, &flooder).await.status, StatusCode::CREATED);
    }
    for _ in 0..20 {
        let refused = offer(&server, &flooder).await;
        assert!(refused.problem(429).contains("3 outstanding codes"));
        let wait: u64 = refused.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=120).contains(&wait), "until the oldest code expires: {wait}");
    }
    let code = offer(&server, &victim).await;
    assert_eq!(code.status, StatusCode::CREATED, "another session is unaffected");
    // A code used frees its place.
    let (flooder2, _) = server.create_session(json!({"principal": "mallory2"})).await;
    let first = offer(&server, &flooder2).await.json()["code"].as_str().unwrap().to_owned();
    offer(&server, &flooder2).await;
    offer(&server, &flooder2).await;
    offer(&server, &flooder2).await.problem(429);
    assert_eq!(redeem(&server, &first).await.status, StatusCode::CREATED);
    assert_eq!(offer(&server, &flooder2).await.status, StatusCode::CREATED);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_sync_tickets_from_one_session_is_capped() {
    let server = TestServer::start_with(|config| config.client_limits.tickets_per_session = 4).await;
    let (flooder, _) = server.create_session(json!({"principal": "mallory"})).await;
    let (other, _) = server.create_session(json!({"principal": "alice"})).await;
    let ticket = |token: String| {
        let server = &server;
        async move {
            let auth = format!("Session {token}");
            server.request(Method::POST, "/v1/sync/ticket", &[("authorization", &auth)], None).await
        }
    };
    for _ in 0..4 {
        assert_eq!(ticket(flooder.clone()).await.status, StatusCode::CREATED);
    }
    let refused = ticket(flooder.clone()).await;
    assert!(refused.problem(429).contains("4 outstanding codes"));
    assert!(refused.header("retry-after").is_some());
    assert_eq!(ticket(other).await.status, StatusCode::CREATED);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn successful_redemptions_are_limited_per_principal() {
    let server = TestServer::start_with(|config| {
        config.client_limits.redemptions_per_principal_per_hour = 4;
    })
    .await;
    let (token, _) = server.create_session(json!({"principal": "bob"})).await;
    let mut created = 0;
    let mut refused = 0;
    for _ in 0..30 {
        let code = offer(&server, &token).await.json()["code"].as_str().unwrap().to_owned();
        let answer = redeem(&server, &code).await;
        match answer.status {
            StatusCode::CREATED => created += 1,
            _ => {
                assert!(answer.problem(429).contains("redeemed too many handoff codes"));
                let wait: u64 = answer.header("retry-after").unwrap().parse().unwrap();
                assert!(wait > 3000, "the window is an hour: {wait}");
                refused += 1;
            }
        }
    }
    assert_eq!((created, refused), (4, 26), "the flood stops at the limit");
    let devices = server
        .get("/v1/principals/bob/sessions", &[("authorization", &format!("Bearer {}", common::KEY))])
        .await;
    assert_eq!(devices.json()["sessions"].as_array().unwrap().len(), 5);
    // Another user redeems as usual.
    let (carol, _) = server.create_session(json!({"principal": "carol"})).await;
    let code = offer(&server, &carol).await.json()["code"].as_str().unwrap().to_owned();
    assert_eq!(redeem(&server, &code).await.status, StatusCode::CREATED);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_session_cap_the_oldest_sessions_are_signed_out() {
    let server = TestServer::start_with(|config| config.client_limits.sessions_per_principal = 3).await;
    let mut tokens = Vec::new();
    for _ in 0..5 {
        tokens.push(server.create_session(json!({"principal": "erin"})).await.0);
        // Sessions are ordered by their creation in milliseconds.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let me = |token: &str| format!("Session {token}");
    for (i, token) in tokens.iter().enumerate() {
        let answer = server.get("/v1/me", &[("authorization", &me(token))]).await;
        let expected = if i < 2 { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
        assert_eq!(answer.status, expected, "session {i}");
    }
    // A redemption counts as a new session too: the oldest left is signed out.
    let code = offer(&server, &tokens[4]).await.json()["code"].as_str().unwrap().to_owned();
    assert_eq!(redeem(&server, &code).await.status, StatusCode::CREATED);
    assert_eq!(
        server.get("/v1/me", &[("authorization", &me(&tokens[2]))]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let auth = format!("Bearer {}", common::KEY);
    let listed = server.get("/v1/principals/erin/sessions", &[("authorization", &auth)]).await.json();
    assert_eq!(listed["sessions"].as_array().unwrap().len(), 3);
    let (other, _) = server.create_session(json!({"principal": "frank"})).await;
    assert_eq!(server.get("/v1/me", &[("authorization", &me(&other))]).await.status, StatusCode::OK);
    server.stop().await;
}
