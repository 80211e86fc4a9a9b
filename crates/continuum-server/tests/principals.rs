//! Principals entering the service are put in NFC, and ones that hide or disguise text are
//! refused with a 422 problem saying what was wrong; case is kept; sessions stored before these
//! rules keep validating and can still be listed by their exact principal.

mod common;

use std::sync::Arc;

use common::{TestServer, config};
use continuum_backends::StoreConfig;
use continuum_core::{NewSession, Principal, SystemClock};
use continuum_store::Sessions;
use hyper::{Method, StatusCode};
use serde_json::json;

/// The lookalikes of `bob`, each with the word the refusal must say.
const REFUSED: [(&str, &str); 4] = [
    (" bob", "start or end with whitespace"),
    ("bob ", "start or end with whitespace"),
    ("bo\u{200B}b", "U+200B (invisible"),
    ("admin\u{202E}gnp.exe", "U+202E (bidirectional control) at character 5"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookalike_principals_are_refused_stored_and_sealed() {
    let server = TestServer::start().await;
    for (principal, says) in REFUSED {
        for sealed in [false, true] {
            let answer = server
                .backend(
                    Method::POST,
                    "/v1/sessions",
                    Some(json!({"principal": principal, "sealed": sealed})),
                )
                .await;
            assert_eq!(answer.header("content-type"), Some("application/problem+json"), "{principal:?}");
            let detail = answer.problem(422);
            assert!(detail.contains(says), "{principal:?} (sealed: {sealed}): {detail}");
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn principals_are_folded_to_nfc_and_case_is_kept() {
    let server = TestServer::start().await;
    let (_, decomposed) = server.create_session(json!({"principal": "zoe\u{0308}"})).await;
    assert_eq!(decomposed["principal"], "zo\u{00EB}");
    let (_, upper) = server.create_session(json!({"principal": "BOB"})).await;
    assert_eq!(upper["principal"], "BOB");
    let (_, lower) = server.create_session(json!({"principal": "bob"})).await;
    assert_eq!(lower["principal"], "bob");

    // `zoe` + U+0308 in the path finds the session made for it, stored as `zoë`.
    let listed = server.backend(Method::GET, "/v1/principals/zoe%CC%88/sessions", None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.json()["sessions"].as_array().unwrap().len(), 1);
    let bobs = server.backend(Method::GET, "/v1/principals/bob/sessions", None).await.json();
    assert_eq!(bobs["sessions"].as_array().unwrap().len(), 1, "BOB is another principal");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_stored_before_the_rules_keep_working() {
    let dir = tempfile::tempdir().unwrap();
    let legacy = [" bob", "admin\u{202E}gnp.exe"];
    let mut tokens = Vec::new();
    {
        let (_, stores) = common::open(&StoreConfig::Redb, dir.path()).await;
        let sessions = Sessions::new(Arc::clone(&stores.sessions), Arc::new(SystemClock));
        for principal in legacy {
            let old = Principal::parse_any(principal).expect("valid under the old rules");
            let ask = NewSession { principal: Some(old), ..NewSession::default() };
            let (_, token) = sessions.create(ask).await.expect("create");
            tokens.push(token.to_string());
        }
        stores.sessions.close().await.expect("close");
    }

    let server = TestServer::start_config(config(dir.path())).await;
    for (principal, token) in legacy.iter().zip(&tokens) {
        let valid =
            server.backend(Method::POST, "/v1/sessions/validate", Some(json!({ "token": token }))).await;
        assert_eq!(valid.status, StatusCode::OK, "{principal:?}");
        assert_eq!(valid.json()["session"]["principal"], *principal);
    }
    let listed = server.backend(Method::GET, "/v1/principals/%20bob/sessions", None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.json()["sessions"].as_array().unwrap().len(), 1, "listed by its exact text");
    let revoked = server.backend(Method::DELETE, "/v1/principals/admin%E2%80%AEgnp.exe/sessions", None).await;
    assert!(revoked.status.is_success(), "{:?}", revoked.status);
    let refused =
        server.backend(Method::POST, "/v1/sessions/validate", Some(json!({ "token": tokens[1] }))).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    server.stop().await;
}
