//! Group commit: concurrent writes share commits, a request refused inside a batch fails alone,
//! and a shutdown neither loses an acknowledged write nor applies a refused one.

mod common;

use common::{HeldWriter, patched, queue, record, recording_config, reopen};
use continuum_core::SessionRecord;
use continuum_store::{SessionStore, StoreError};
use continuum_store_redb::{RedbConfig, RedbStore};
use tokio::task::JoinSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_inserts_share_commits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (config, commits) = recording_config();
    let store = RedbStore::open(&dir.path().join("s.redb"), config).expect("open");
    let records: Vec<SessionRecord> = (0..200).map(|_| record("alice")).collect();
    // Every insert is started before any is awaited.
    let mut inserts = JoinSet::new();
    for r in records.clone() {
        let store = store.clone();
        inserts.spawn(async move { store.insert(r.into()).await });
    }
    while let Some(done) = inserts.join_next().await {
        done.expect("task").expect("insert");
    }
    let commits = commits.lock().expect("lock").clone();
    assert_eq!(commits.iter().map(|c| c.ops).sum::<usize>(), 200, "every insert was in a commit");
    assert!(commits.len() < 200, "200 inserts took {} commits: no batching", commits.len());
    assert!(commits.iter().any(|c| c.ops > 1), "no commit held more than one write");
    assert_eq!(store.count().await.expect("len"), 200);
    for r in &records {
        assert_eq!(store.get(&r.sid).await.expect("get").as_deref(), Some(r));
    }
    store.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_fails_alone_inside_its_batch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    // The writer is held after its first commit, so the writes queued meanwhile form one batch.
    let (config, mut writer) = HeldWriter::config();
    let store = RedbStore::open(&path, config).expect("open");
    let a = record("alice");
    let insert_a = tokio::spawn({
        let (store, a) = (store.clone(), a.clone());
        async move { store.insert(a.into()).await }
    });
    writer.until_held().await;

    // Each refusal below rests on the write queued just before it, in the same batch.
    let b = record("alice");
    let c = record("bob");
    let a2 = patched(&a, "first");
    let a2_late = patched(&a, "second");
    let missing = record("carol");
    let insert_b = queue(&store, 1, |s| {
        let b = b.clone();
        async move { s.insert(b.into()).await }
    })
    .await;
    let insert_b_again = queue(&store, 2, |s| {
        let b = b.clone();
        async move { s.insert(b.into()).await }
    })
    .await;
    let replace_a = queue(&store, 3, |s| {
        let a2 = a2.clone();
        async move { s.replace(1, a2.into()).await }
    })
    .await;
    let replace_a_late = queue(&store, 4, |s| async move { s.replace(1, a2_late.into()).await }).await;
    let insert_c = queue(&store, 5, |s| {
        let c = c.clone();
        async move { s.insert(c.into()).await }
    })
    .await;
    let replace_missing =
        queue(&store, 6, |s| async move { s.replace(1, patched(&missing, "x").into()).await }).await;
    writer.release();

    insert_a.await.expect("task").expect("insert a");
    insert_b.await.expect("task").expect("insert b");
    assert!(matches!(insert_b_again.await.expect("task"), Err(StoreError::AlreadyExists)));
    replace_a.await.expect("task").expect("replace a at version 1");
    assert!(matches!(
        replace_a_late.await.expect("task"),
        Err(StoreError::VersionConflict { expected: 1, actual: 2 })
    ));
    insert_c.await.expect("task").expect("insert c");
    assert!(matches!(replace_missing.await.expect("task"), Err(StoreError::NotFound)));
    assert_eq!(*writer.batches.lock().expect("lock"), vec![1, 6], "the six requests shared one commit");

    let check = |store: RedbStore| {
        let (a2, b, c) = (a2.clone(), b.clone(), c.clone());
        async move {
            assert_eq!(store.get(&a2.sid).await.expect("get").as_deref(), Some(&a2));
            assert_eq!(store.get(&b.sid).await.expect("get").as_deref(), Some(&b));
            assert_eq!(store.get(&c.sid).await.expect("get").as_deref(), Some(&c));
            assert_eq!(store.count().await.expect("len"), 3);
        }
    };
    check(store.clone()).await;
    store.close().await.expect("close");
    check(reopen(&path).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_racing_writes_keeps_every_acknowledged_write_and_applies_no_refused_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    let store = RedbStore::open(&path, RedbConfig { max_batch: 8, ..RedbConfig::default() }).expect("open");
    let records: Vec<SessionRecord> = (0..300).map(|_| record("alice")).collect();
    let mut inserts = JoinSet::new();
    for r in records.clone() {
        let store = store.clone();
        inserts.spawn(async move { (r.sid, store.insert(r.into()).await) });
    }
    tokio::task::yield_now().await;
    store.close().await.expect("close");
    let (mut acknowledged, mut refused) = (Vec::new(), Vec::new());
    while let Some(done) = inserts.join_next().await {
        match done.expect("task") {
            (sid, Ok(())) => acknowledged.push(sid),
            (sid, Err(StoreError::Closed)) => refused.push(sid),
            (_, Err(other)) => panic!("an insert failed with {other:?}"),
        }
    }
    assert!(matches!(store.insert(record("late").into()).await, Err(StoreError::Closed)));
    store.close().await.expect("closing twice is harmless");
    assert_eq!(store.count().await.expect("reads still answer"), acknowledged.len() as u64);

    let store = reopen(&path).await;
    assert_eq!(store.count().await.expect("len"), acknowledged.len() as u64);
    for sid in &acknowledged {
        assert!(store.get(sid).await.expect("get").is_some(), "acknowledged {sid} was lost");
    }
    for sid in &refused {
        assert!(store.get(sid).await.expect("get").is_none(), "refused {sid} was applied");
    }
    store.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_finishes_the_writes_queued_before_it_and_refuses_later_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    let (config, mut writer) = HeldWriter::config();
    let store = RedbStore::open(&path, config).expect("open");
    let first = record("alice");
    let insert_first = tokio::spawn({
        let (store, first) = (store.clone(), first.clone());
        async move { store.insert(first.into()).await }
    });
    writer.until_held().await;
    let before: Vec<SessionRecord> = (0..3).map(|_| record("alice")).collect();
    let after: Vec<SessionRecord> = (0..2).map(|_| record("alice")).collect();
    let mut queued = 0;
    let mut inserts_before = Vec::new();
    for r in before.clone() {
        queued += 1;
        inserts_before.push(queue(&store, queued, |s| async move { s.insert(r.into()).await }).await);
    }
    queued += 1;
    let close = queue(&store, queued, |s| async move { s.close().await }).await;
    let mut inserts_after = Vec::new();
    for r in after.clone() {
        queued += 1;
        inserts_after.push(queue(&store, queued, |s| async move { s.insert(r.into()).await }).await);
    }
    writer.release();

    close.await.expect("task").expect("close");
    insert_first.await.expect("task").expect("insert before the hold");
    for insert in inserts_before {
        insert.await.expect("task").expect("queued before close: committed");
    }
    for insert in inserts_after {
        assert!(matches!(insert.await.expect("task"), Err(StoreError::Closed)), "queued after close");
    }
    assert_eq!(*writer.batches.lock().expect("lock"), vec![1, 3]);
    assert!(matches!(store.insert(record("late").into()).await, Err(StoreError::Closed)));

    let store = reopen(&path).await;
    assert_eq!(store.count().await.expect("len"), 4);
    for r in before.iter().chain([&first]) {
        assert_eq!(store.get(&r.sid).await.expect("get").as_deref(), Some(r));
    }
    for r in &after {
        assert!(store.get(&r.sid).await.expect("get").is_none());
    }
    store.close().await.expect("close");
}
