//! The store conformance suite, run against a fresh redb file per check.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use continuum_store::{Sessions, testkit};
use continuum_store_redb::{RedbConfig, RedbStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    // One directory for the whole suite, alive until every check has run.
    let dir = tempfile::tempdir().expect("tempdir");
    let checks = AtomicUsize::new(0);
    testkit::run_all(|clock| {
        let path = dir.path().join(format!("check-{}.redb", checks.fetch_add(1, Ordering::Relaxed)));
        async move {
            let store = RedbStore::open(&path, RedbConfig::default()).expect("open");
            Sessions::new(Arc::new(store), Arc::new(clock))
        }
    })
    .await;
    assert!(checks.load(Ordering::Relaxed) >= 13, "every check ran on its own file");
}
