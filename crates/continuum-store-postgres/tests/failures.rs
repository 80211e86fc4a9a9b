//! Failures and their errors: PostgreSQL unreachable at start or lost later (told apart from
//! other errors, and recovered from), a closed store, bad configuration, and values PostgreSQL
//! types could mangle.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::proxy::{CountingProxy, upstream};
use common::{START, TestSchema};
use continuum_core::{DocKey, ManualClock, NewSession, Principal};
use continuum_store::{DocStore, SessionStore, StoreError};
use continuum_store_postgres::{PostgresConfig, PostgresStore, PostgresStoreError, is_connection_failure};
use serde_json::json;

#[tokio::test]
async fn nothing_listening_at_start_is_a_connection_error() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let config = PostgresConfig::parse(&format!("postgres://postgres@127.0.0.1:{port}/test")).expect("url");
    let started = Instant::now();
    match PostgresStore::connect(config).await {
        Err(error @ PostgresStoreError::Connect(_)) => {
            assert!(error.is_connection());
            assert!(is_connection_failure(&error.into()));
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
    assert!(started.elapsed() < PostgresConfig::DEFAULT_TIMEOUT, "refused at once, not after a timeout");
}

#[tokio::test]
async fn tls_is_not_supported_and_requiring_it_fails_to_connect() {
    let mut url = common::url();
    url.push_str(if url.contains('?') { "&sslmode=require" } else { "?sslmode=require" });
    let config = PostgresConfig::parse(&url).expect("url");
    assert!(matches!(PostgresStore::connect(config).await, Err(PostgresStoreError::Connect(_))));
}

#[tokio::test]
async fn bad_configuration_is_refused_before_connecting() {
    let config =
        PostgresConfig::parse("postgres://postgres@127.0.0.1:1/test").expect("url").with_schema("Bad-Name");
    assert!(matches!(PostgresStore::connect(config).await, Err(PostgresStoreError::InvalidConfig(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_is_a_connection_failure_and_the_store_recovers_when_it_returns() {
    let schema = TestSchema::new();
    schema.store().await;
    let mut proxy = CountingProxy::start(upstream()).await;
    let mut config = schema.config_via(proxy.addr.port());
    config.connect_timeout = Duration::from_secs(2);
    let store = PostgresStore::connect(config).await.expect("connect through the proxy");
    let clock = ManualClock::new(START);
    let sessions = common::sessions(&store, &clock);
    let (created, token) = sessions.create(NewSession::default()).await.expect("create");
    store.ping().await.expect("ping");

    proxy.cut().await;
    for attempt in 0..3 {
        let error = store.get(&created.sid).await.expect_err("PostgreSQL is gone");
        assert!(is_connection_failure(&error), "attempt {attempt}: {error:?}");
        let error = store.ping().await.expect_err("ping fails too");
        assert!(error.is_connection(), "{error:?}");
    }
    let error =
        store.append(&DocKey::parse("user:a", "d").expect("key"), b"u".to_vec()).await.expect_err("down");
    assert!(is_connection_failure(&error), "{error:?}");

    let proxy = proxy.restart(upstream()).await;
    store.ping().await.expect("ping once PostgreSQL is back");
    let validated = sessions.validate(&token).await.expect("the session was kept");
    assert_eq!(validated.sid, created.sid);
    drop(proxy);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_store_refuses_every_operation() {
    let schema = TestSchema::new();
    let store = schema.store().await;
    let clock = ManualClock::new(START);
    let (created, _) = common::sessions(&store, &clock).create(NewSession::default()).await.expect("create");
    store.close().await.expect("close");
    assert!(matches!(store.get(&created.sid).await, Err(StoreError::Closed)));
    assert!(matches!(store.insert(Arc::clone(&created)).await, Err(StoreError::Closed)));
    let key = DocKey::parse("user:a", "d").expect("key");
    assert!(matches!(store.append(&key, Vec::new()).await, Err(StoreError::Closed)));
    // What was written before is in PostgreSQL, for the next store.
    assert!(schema.store().await.get(&created.sid).await.expect("get").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_come_back_exactly_as_written() {
    let schema = TestSchema::new();
    let store = schema.store().await;
    let clock = ManualClock::new(START);
    let sessions = common::sessions(&store, &clock);
    // What jsonb would refuse (U+0000) or rewrite (number spellings, key order, duplicate-free
    // but unusual keys), and a principal outside ASCII.
    let attributes = json!({
        "nul": "a\u{0}b",
        "big": 18_446_744_073_709_551_615u64,
        "neg": -9_223_372_036_854_775_808i64,
        "float": 0.1,
        "tiny": 5e-324,
        "nested": {"z": [1, {"y": null}], "a": true},
        "": "empty key",
        "ünï": "cödé ✓"
    });
    let ask = NewSession {
        principal: Some(Principal::parse("zoë@example.com").expect("principal")),
        attributes: attributes.as_object().cloned().expect("object"),
        ..NewSession::default()
    };
    let (created, token) = sessions.create(ask).await.expect("create");
    let stored = store.get(&created.sid).await.expect("get").expect("present");
    assert_eq!(*stored, *created);
    let patched =
        sessions.patch_attributes(&token.sid, &json!({"nul2": "\u{0}"}), None).await.expect("patch");
    assert_eq!(*store.get(&created.sid).await.expect("get").expect("present"), *patched);
    let listed = store.list_by_principal(&created.principal).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(*listed[0], *patched);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_name_postgresql_text_cannot_hold_is_refused_and_creates_nothing() {
    let schema = TestSchema::new();
    let store = schema.store().await;
    let key = DocKey::parse("user:alice", "form").expect("key");
    let refused = store.save_version(&key, "a\0b".into(), START, b"s".to_vec()).await;
    assert!(matches!(refused, Err(StoreError::InvalidWrite(_))), "{refused:?}");
    assert!(store.doc_names(&key.scope).await.expect("names").is_empty());
    assert_eq!(store.save_version(&key, "ab".into(), START, b"s".to_vec()).await.expect("save").id, 1);
}
