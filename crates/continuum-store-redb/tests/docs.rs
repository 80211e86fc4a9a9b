//! Continuity documents in the redb store: the document conformance suite, what a restart keeps,
//! and document and session writes sharing one group commit.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{HeldWriter, START, queue, record, reopen};
use continuum_core::DocKey;
use continuum_store::testkit::docs::{doc, run_all};
use continuum_store::{DocStore, SessionStore, StoreError, StoredDoc};
use continuum_store_redb::{RedbConfig, RedbStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doc_conformance() {
    // One directory for the whole suite, alive until every check has run.
    let dir = tempfile::tempdir().expect("tempdir");
    let checks = AtomicUsize::new(0);
    run_all(|| {
        let path = dir.path().join(format!("check-{}.redb", checks.fetch_add(1, Ordering::Relaxed)));
        async move {
            let store = tokio::task::spawn_blocking(move || RedbStore::open(&path, RedbConfig::default()))
                .await
                .expect("open task")
                .expect("open");
            Arc::new(store) as Arc<dyn DocStore>
        }
    })
    .await;
    assert!(checks.load(Ordering::Relaxed) >= 12, "every check ran on its own file");
}

/// Everything the store answers about `keys`.
async fn snapshot_of(store: &RedbStore, keys: &[DocKey]) -> Vec<String> {
    let mut seen = Vec::new();
    for key in keys {
        let versions = store.versions(key).await.expect("versions");
        let mut states = Vec::new();
        for meta in &versions {
            states.push(store.version(key, meta.id).await.expect("version").expect("listed version"));
        }
        let names = store.doc_names(&key.scope).await.expect("names");
        seen.push(format!(
            "{key}: {:?} {versions:?} {states:?} {names:?}",
            store.load(key).await.expect("load")
        ));
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_survive_a_restart_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("docs.redb");
    let store = RedbStore::open(&path, RedbConfig::default()).expect("open");
    let form = doc("user:a/b", "form");
    let notes = doc("user:a", "b-form");
    for i in 1..=5u8 {
        store.append(&form, vec![i; 1 + usize::from(i) * 1000]).await.expect("append");
    }
    store.compact(&form, b"snapshot-through-3".to_vec(), 3).await.expect("compact");
    store.append(&notes, b"n1".to_vec()).await.expect("append");
    let v1 = store.save_version(&form, "step 2".into(), START, b"state-1".to_vec()).await.expect("save");
    let v2 = store.save_version(&form, "step 3".into(), START, vec![7; 100_000]).await.expect("save");
    let keys = [form.clone(), notes.clone()];
    let before = snapshot_of(&store, &keys).await;
    assert_eq!(
        store.load(&form).await.expect("load"),
        StoredDoc {
            snapshot: Some(b"snapshot-through-3".to_vec()),
            updates: vec![vec![4; 4001], vec![5; 5001]],
            last_seq: 5
        }
    );
    store.close().await.expect("close");
    assert!(matches!(store.load(&form).await, Err(StoreError::Closed)), "reads after close are refused");
    drop(store);

    let store = reopen(&path).await;
    assert_eq!(snapshot_of(&store, &keys).await, before, "everything loads back identically");
    assert_eq!(store.versions(&form).await.expect("versions"), vec![v1, v2]);
    // The counters came back too: numbering goes on where it stopped.
    assert_eq!(store.append(&form, b"u6".to_vec()).await.expect("append"), 6);
    let v3 = store.save_version(&form, "after".into(), START, Vec::new()).await.expect("save");
    assert_eq!(v3.id, 3);
    assert!(matches!(store.compact(&form, b"stale".to_vec(), 2).await, Err(StoreError::InvalidWrite(_))));
    store.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doc_append_and_session_writes_share_one_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mixed.redb");
    // The writer is held after its first commit, so the writes queued meanwhile form one batch.
    let (config, mut writer) = HeldWriter::config();
    let store = RedbStore::open(&path, config).expect("open");
    let first = record("alice");
    let insert_first = tokio::spawn({
        let (store, first) = (store.clone(), first.clone());
        async move { store.insert(first.into()).await }
    });
    writer.until_held().await;

    let key = doc("user:alice", "wizard");
    let (a, b) = (record("alice"), record("bob"));
    let insert_a = queue(&store, 1, |s| {
        let a = a.clone();
        async move { s.insert(a.into()).await }
    })
    .await;
    let append_1 = queue(&store, 2, |s| {
        let key = key.clone();
        async move { s.append(&key, b"u1".to_vec()).await }
    })
    .await;
    let insert_b = queue(&store, 3, |s| {
        let b = b.clone();
        async move { s.insert(b.into()).await }
    })
    .await;
    let append_2 = queue(&store, 4, |s| {
        let key = key.clone();
        async move { s.append(&key, b"u2".to_vec()).await }
    })
    .await;
    let version = queue(&store, 5, |s| {
        let key = key.clone();
        async move { s.save_version(&key, "v".into(), START, b"v".to_vec()).await }
    })
    .await;
    writer.release();

    insert_first.await.expect("task").expect("insert before the hold");
    insert_a.await.expect("task").expect("insert a");
    insert_b.await.expect("task").expect("insert b");
    assert_eq!(append_1.await.expect("task").expect("append"), 1);
    assert_eq!(append_2.await.expect("task").expect("append"), 2, "numbered in batch order");
    assert_eq!(version.await.expect("task").expect("save").id, 1);
    assert_eq!(*writer.batches.lock().expect("lock"), vec![1, 5], "sessions and documents in one commit");

    store.close().await.expect("close");
    let store = reopen(&path).await;
    assert_eq!(store.count().await.expect("count"), 3);
    assert_eq!(store.load(&key).await.expect("load").updates, vec![b"u1".to_vec(), b"u2".to_vec()]);
    store.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_compaction_fails_alone_and_costs_no_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, commits) = common::recording_config();
    let store = RedbStore::open(&dir.path().join("refused.redb"), config).expect("open");
    let key = doc("user:alice", "form");
    store.append(&key, b"u1".to_vec()).await.expect("append");
    assert!(matches!(store.compact(&key, b"s".to_vec(), 2).await, Err(StoreError::InvalidWrite(_))));
    let commits = commits.lock().expect("lock").clone();
    assert_eq!(commits.len(), 1, "only the append committed: {commits:?}");
    assert_eq!(store.doc_names(&key.scope).await.expect("names").len(), 1);
    store.close().await.expect("close");
}
