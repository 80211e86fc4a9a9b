//! Both conformance suites on a redb file behind the encryption-at-rest decorators, as
//! `continuum serve` runs it by default: encryption changes nothing a caller can see.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use continuum_core::{DataKey, DataKeyRing};
use continuum_store::{DocStore, EncryptedDocs, EncryptedSessions, Sessions, testkit};
use continuum_store_redb::{RedbConfig, RedbStore};

fn ring() -> DataKeyRing {
    DataKeyRing::new(vec![DataKey::generate()]).expect("a ring")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_conformance_over_encryption() {
    let dir = tempfile::tempdir().expect("tempdir");
    let checks = AtomicUsize::new(0);
    testkit::run_all(|clock| {
        let path = dir.path().join(format!("s-{}.redb", checks.fetch_add(1, Ordering::Relaxed)));
        async move {
            let store = RedbStore::open(&path, RedbConfig::default()).expect("open");
            Sessions::new(Arc::new(EncryptedSessions::new(Arc::new(store), ring())), Arc::new(clock))
        }
    })
    .await;
    assert!(checks.load(Ordering::Relaxed) >= 13);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doc_conformance_over_encryption() {
    let dir = tempfile::tempdir().expect("tempdir");
    let checks = AtomicUsize::new(0);
    testkit::docs::run_all(|| {
        let path = dir.path().join(format!("d-{}.redb", checks.fetch_add(1, Ordering::Relaxed)));
        async move {
            let store = tokio::task::spawn_blocking(move || RedbStore::open(&path, RedbConfig::default()))
                .await
                .expect("open task")
                .expect("open");
            Arc::new(EncryptedDocs::new(Arc::new(store), ring())) as Arc<dyn DocStore>
        }
    })
    .await;
    assert!(checks.load(Ordering::Relaxed) >= 12);
}
