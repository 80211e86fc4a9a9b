//! Connecting: an unreachable server or a bad configuration is reported at start with its
//! cause, and a store outlives a Redis restart.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::random_prefix;
use common::server::RedisProcess;
use continuum_store::{SessionStore, StoreError};
use continuum_store_redis::{RedisConfig, RedisStore, RedisStoreError};

fn cause(error: &StoreError) -> &RedisStoreError {
    let StoreError::Backend(source) = error else { panic!("expected a backend error, got {error:?}") };
    source.downcast_ref().unwrap_or_else(|| panic!("expected a RedisStoreError, got {source:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_fails_at_start_with_its_cause() {
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
    let config = RedisConfig {
        connect_timeout: Duration::from_secs(1),
        ..RedisConfig::new(format!("redis://:hunter2@127.0.0.1:{closed}"))
    };
    let started = Instant::now();
    let error = RedisStore::connect(config).await.expect_err("nothing listens there");
    assert!(started.elapsed() < Duration::from_secs(30), "fails promptly: {:?}", started.elapsed());
    let RedisStoreError::Connect { url, source } = cause(&error) else { panic!("{error:?}") };
    assert_eq!(url, &format!("redis://:***@127.0.0.1:{closed}"), "the password stays out of errors");
    assert!(source.is_io_error() || source.is_connection_refusal(), "{source:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_configuration_is_refused_before_connecting() {
    let braces = RedisConfig::default().with_prefix("app{1}:");
    let error = RedisStore::connect(braces).await.expect_err("a brace in the prefix");
    assert!(matches!(cause(&error), RedisStoreError::InvalidConfig(_)));
    let no_nodes = RedisConfig::new("redis+cluster://");
    let error = RedisStore::connect(no_nodes).await.expect_err("a cluster without nodes");
    assert!(matches!(cause(&error), RedisStoreError::InvalidConfig(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_follows_the_server_down_and_back() {
    let server = RedisProcess::start(&[]);
    let port = server.port;
    let config = RedisConfig::new(server.url()).with_prefix(random_prefix());
    let store = RedisStore::connect(config).await.expect("connect");
    store.ping().await.expect("up");
    drop(server);
    let error = store.ping().await.expect_err("the server is gone");
    assert!(matches!(cause(&error), RedisStoreError::Command { command: "PING", .. }));

    let _restarted = RedisProcess::start_on(port, &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Err(error) = store.ping().await {
        assert!(Instant::now() < deadline, "the store never reconnected: {error:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The new server has an empty script cache: the first write loads its script again.
    let record = common::scenarios::record("alice", 600, 3600, continuum_core::Timestamp::from_millis(0));
    store.insert(std::sync::Arc::new(record.clone())).await.expect("a write after the restart");
    assert_eq!(store.get(&record.sid).await.expect("get"), Some(std::sync::Arc::new(record)));
}
