//! Opening: a file another handle holds is refused with its cause, and bad settings are refused.

use std::error::Error as _;

use continuum_store::StoreError;
use continuum_store_redb::{RedbConfig, RedbStore, RedbStoreError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_in_use_is_refused_with_its_cause() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    let store = RedbStore::open(&path, RedbConfig::default()).expect("open");
    let error = RedbStore::open(&path, RedbConfig::default()).expect_err("the file is in use");
    let StoreError::Backend(cause) = &error else { panic!("expected a backend error, got {error:?}") };
    match cause.downcast_ref::<RedbStoreError>() {
        Some(RedbStoreError::Open { path: named, source: redb::DatabaseError::DatabaseAlreadyOpen }) => {
            assert_eq!(named, &path);
        }
        other => panic!("expected the file to be reported as already open, got {other:?}"),
    }
    assert!(error.source().is_some(), "the cause is kept");
    store.close().await.expect("close");
    RedbStore::open(&path, RedbConfig::default()).expect("free again after close");
}

#[test]
fn zero_sizes_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = RedbConfig { max_batch: 0, ..RedbConfig::default() };
    let error = RedbStore::open(&dir.path().join("s.redb"), config).expect_err("refused");
    let StoreError::Backend(cause) = &error else { panic!("expected a backend error, got {error:?}") };
    assert!(matches!(cause.downcast_ref::<RedbStoreError>(), Some(RedbStoreError::InvalidConfig(_))));
}

#[test]
fn a_missing_directory_is_an_open_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let error =
        RedbStore::open(&dir.path().join("absent/s.redb"), RedbConfig::default()).expect_err("refused");
    let StoreError::Backend(cause) = &error else { panic!("expected a backend error, got {error:?}") };
    assert!(matches!(cause.downcast_ref::<RedbStoreError>(), Some(RedbStoreError::Open { .. })));
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_file_is_private_and_an_existing_one_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    let store = RedbStore::open(&path, RedbConfig::default()).expect("open");
    assert_eq!(mode(&path), 0o600, "created owner-only");
    store.close().await.expect("close");
    drop(store);

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let store = RedbStore::open(&path, RedbConfig::default()).expect("reopen");
    assert_eq!(mode(&path), 0o640, "an existing file is not changed, only warned about");
    store.close().await.expect("close");
}
