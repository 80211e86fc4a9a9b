//! Opening each store a string names: where the embedded store puts its file, that its commits
//! reach the observer, that a shared store brings a bus, and that a store that cannot be opened
//! is a clear error at start.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use continuum_backends::{CommitStats, OpenError, OpenOptions, STORE_FILE, StoreConfig, open};
use continuum_core::DocKey;

fn doc() -> DocKey {
    DocKey::parse("user:alice", "draft").expect("a document key")
}

/// Options counting the embedded store's commits and the writes they held.
fn counting() -> (OpenOptions, Arc<AtomicUsize>) {
    let ops = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&ops);
    let options = OpenOptions {
        on_commit: Some(Arc::new(move |stats: CommitStats| {
            seen.fetch_add(stats.ops, Ordering::SeqCst);
        })),
        ..Default::default()
    };
    (options, ops)
}

#[tokio::test]
async fn memory_keeps_both_stores_and_no_bus() {
    let dir = tempfile::tempdir().unwrap();
    let stores = open(&StoreConfig::Memory, dir.path(), OpenOptions::default()).await.unwrap();
    assert!(stores.bus.is_none());
    stores.docs.append(&doc(), vec![1]).await.unwrap();
    assert_eq!(stores.docs.load(&doc()).await.unwrap().updates.len(), 1);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "memory writes no file");
}

#[tokio::test]
async fn redb_lives_in_the_data_directory_and_reports_its_commits() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("not").join("yet");
    let (options, ops) = counting();
    let stores = open(&StoreConfig::Redb, &data, options).await.unwrap();
    assert!(stores.bus.is_none(), "the embedded store serves one node");
    assert!(data.join(STORE_FILE).is_file(), "the data directory is created, the file inside");
    stores.docs.append(&doc(), vec![1]).await.unwrap();
    assert!(ops.load(Ordering::SeqCst) >= 1, "the append's commit reached the observer");
    stores.sessions.close().await.unwrap();
    drop(stores);

    let again = open(&StoreConfig::Redb, &data, OpenOptions::default()).await.unwrap();
    assert_eq!(again.docs.load(&doc()).await.unwrap().updates.len(), 1, "one file for both stores");
    again.sessions.close().await.unwrap();
}

#[tokio::test]
async fn redb_at_a_directory_leaves_the_data_directory_alone() {
    let (data, elsewhere) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let config: StoreConfig = format!("redb:{}", elsewhere.path().display()).parse().unwrap();
    let stores = open(&config, data.path(), OpenOptions::default()).await.unwrap();
    assert!(elsewhere.path().join(STORE_FILE).is_file());
    assert!(!data.path().join(STORE_FILE).exists());
    stores.sessions.close().await.unwrap();
}

#[tokio::test]
async fn a_data_directory_that_cannot_be_made_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"in the way").unwrap();
    let error = open(&StoreConfig::Redb, &file.join("data"), OpenOptions::default()).await.unwrap_err();
    assert!(matches!(error, OpenError::DataDir { .. }), "{error:?}");
    assert!(error.to_string().starts_with("cannot create the data directory"), "{error}");
    assert!(error.to_string().contains("a-file"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_postgres_is_a_clear_error_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig::Postgres("postgres://postgres@127.0.0.1:1/test?connect_timeout=2".into());
    let error = open(&config, dir.path(), OpenOptions::default()).await.expect_err("refused");
    let text = format!("{error}");
    assert!(text.contains("cannot open the store"), "{text}");
    assert!(std::error::Error::source(&error).is_some(), "the cause is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_is_a_clear_error_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = StoreConfig::Redis("redis://127.0.0.1:1".into());
    let opened =
        tokio::time::timeout(Duration::from_secs(30), open(&config, dir.path(), OpenOptions::default()));
    let error = opened.await.expect("refused within 30 s").expect_err("refused");
    assert!(format!("{error}").contains("cannot open the store"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_brings_its_bus() {
    let base =
        std::env::var("CONTINUUM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let config: StoreConfig = base.parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stores = open(&config, dir.path(), OpenOptions::default()).await.unwrap();
    assert!(stores.bus.is_some(), "nodes sharing Redis hear each other over its pub/sub");
    stores.sessions.ping().await.unwrap();
    stores.sessions.close().await.unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn redb_creates_its_directory_and_file_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let stores = open(&StoreConfig::Redb, &data, OpenOptions::default()).await.unwrap();
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join(STORE_FILE)), 0o600);
    stores.sessions.close().await.unwrap();
}
