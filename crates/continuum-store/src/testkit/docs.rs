//! The conformance suite every [`DocStore`] runs: sequence numbers, loads, compaction, named
//! versions, scopes and concurrent appends. Each check gets a fresh store from [`run_all`]'s
//! factory.
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread")]
//! async fn doc_conformance() {
//!     continuum_store::testkit::docs::run_all(|| async {
//!         Arc::new(MyDocStore::new()) as Arc<dyn DocStore>
//!     }).await;
//! }
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use continuum_core::{DocKey, DocName, Scope, SessionId, Timestamp};

use crate::testkit::START;
use crate::{DocStore, StoreError, StoredDoc, VersionMeta};

/// Runs every document conformance check against fresh stores built by `make`.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn DocStore>>,
{
    macro_rules! check {
        ($name:ident) => {{
            let store = make().await;
            $name(&store).await;
        }};
    }
    check!(an_unknown_document_is_empty);
    check!(appends_are_numbered_from_one_per_document);
    check!(bytes_round_trip_exactly);
    check!(compaction_replaces_exactly_the_updates_through_its_sequence_number);
    check!(compaction_through_zero_keeps_every_update);
    check!(compaction_past_the_last_update_is_refused);
    check!(a_stale_compaction_is_refused);
    check!(versions_are_numbered_per_document_and_read_back_exactly);
    check!(doc_names_lists_one_scope_sorted);
    check!(every_write_makes_a_document_listed);
    check!(scopes_are_independent);
    check!(concurrent_appends_get_distinct_sequence_numbers);
    check!(a_walk_of_the_documents_meets_each_once_in_order);
}

/// A document key from text the test knows to be valid.
pub fn doc(scope: &str, name: &str) -> DocKey {
    DocKey::parse(scope, name).expect("valid document key")
}

fn scope(text: &str) -> Scope {
    Scope::parse(text).expect("valid scope")
}

fn names(list: &[&str]) -> Vec<DocName> {
    list.iter().map(|name| DocName::parse(name).expect("valid name")).collect()
}

fn at(secs: u64) -> Timestamp {
    START + Duration::from_secs(secs)
}

async fn load(store: &Arc<dyn DocStore>, key: &DocKey) -> StoredDoc {
    store.load(key).await.expect("load")
}

async fn append(store: &Arc<dyn DocStore>, key: &DocKey, update: &[u8]) -> u64 {
    store.append(key, update.to_vec()).await.expect("append")
}

async fn an_unknown_document_is_empty(store: &Arc<dyn DocStore>) {
    let key = doc("user:alice", "draft");
    let stored = load(store, &key).await;
    assert_eq!(stored, StoredDoc::default());
    assert!(stored.is_empty());
    assert!(store.versions(&key).await.expect("versions").is_empty());
    assert!(store.version(&key, 1).await.expect("version").is_none());
    assert!(store.doc_names(&key.scope).await.expect("names").is_empty());
}

async fn appends_are_numbered_from_one_per_document(store: &Arc<dyn DocStore>) {
    let (a, b) = (doc("user:alice", "a"), doc("user:alice", "b"));
    assert_eq!(append(store, &a, b"a1").await, 1);
    assert_eq!(append(store, &a, b"a2").await, 2);
    assert_eq!(append(store, &b, b"b1").await, 1, "every document counts from 1");
    assert_eq!(append(store, &a, b"a3").await, 3);
    let stored = load(store, &a).await;
    assert_eq!(stored.snapshot, None);
    assert_eq!(stored.updates, vec![b"a1".to_vec(), b"a2".to_vec(), b"a3".to_vec()], "oldest first");
    assert_eq!(stored.last_seq, 3);
    assert_eq!(
        load(store, &b).await,
        StoredDoc { snapshot: None, updates: vec![b"b1".to_vec()], last_seq: 1 }
    );
}

/// Every byte value, in a length past one page of any store, so encodings cannot hide.
fn every_byte(len: usize, salt: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt)).collect()
}

/// Compares byte strings without printing hundreds of kilobytes when they differ.
fn assert_same_bytes(actual: &[Vec<u8>], expected: &[Vec<u8>], what: &str) {
    let lengths = |list: &[Vec<u8>]| list.iter().map(Vec::len).collect::<Vec<_>>();
    assert_eq!(lengths(actual), lengths(expected), "{what}: lengths");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let first_difference = a.iter().zip(e).position(|(a, e)| a != e);
        assert!(first_difference.is_none(), "{what}: item {i} differs at byte {first_difference:?}");
    }
}

async fn bytes_round_trip_exactly(store: &Arc<dyn DocStore>) {
    let key = doc("user:alice", "bytes");
    let updates = [Vec::new(), vec![0], every_byte(256 * 1024, 7), b"\0\xff\0".to_vec()];
    for update in &updates {
        store.append(&key, update.clone()).await.expect("append");
    }
    assert_same_bytes(&load(store, &key).await.updates, &updates, "updates");
    let snapshot = every_byte(300 * 1024, 3);
    store.compact(&key, snapshot.clone(), 2).await.expect("compact");
    let stored = load(store, &key).await;
    let snapshot_back: Vec<_> = stored.snapshot.into_iter().collect();
    assert_same_bytes(&snapshot_back, &[snapshot], "the snapshot");
    assert_same_bytes(&stored.updates, &updates[2..], "the updates after the snapshot");
    assert_eq!(stored.last_seq, 4);
}

async fn compaction_replaces_exactly_the_updates_through_its_sequence_number(store: &Arc<dyn DocStore>) {
    let key = doc("user:alice", "form");
    for i in 1..=5u8 {
        append(store, &key, &[i]).await;
    }
    store.compact(&key, b"s3".to_vec(), 3).await.expect("compact through 3");
    let stored = load(store, &key).await;
    assert_eq!(stored.snapshot, Some(b"s3".to_vec()));
    assert_eq!(stored.updates, vec![vec![4], vec![5]], "updates after through_seq stay");
    assert_eq!(stored.last_seq, 5, "compaction keeps last_seq");
    assert_eq!(append(store, &key, &[6]).await, 6, "the sequence goes on after a compaction");
    assert_eq!(load(store, &key).await.updates, vec![vec![4], vec![5], vec![6]]);

    store.compact(&key, b"s6".to_vec(), 6).await.expect("compact everything");
    assert_eq!(
        load(store, &key).await,
        StoredDoc { snapshot: Some(b"s6".to_vec()), updates: vec![], last_seq: 6 }
    );
    assert_eq!(append(store, &key, &[7]).await, 7);
    store.compact(&key, b"s6-again".to_vec(), 6).await.expect("compacting through the same number again");
    let stored = load(store, &key).await;
    assert_eq!(stored.snapshot, Some(b"s6-again".to_vec()), "the newer snapshot replaces the older");
    assert_eq!(stored.updates, vec![vec![7]]);
    assert_eq!(stored.last_seq, 7);
}

async fn compaction_through_zero_keeps_every_update(store: &Arc<dyn DocStore>) {
    let key = doc("user:alice", "zero");
    append(store, &key, b"u1").await;
    store.compact(&key, b"empty".to_vec(), 0).await.expect("compact through 0");
    let stored = load(store, &key).await;
    assert_eq!(stored.snapshot, Some(b"empty".to_vec()));
    assert_eq!(stored.updates, vec![b"u1".to_vec()]);
    assert_eq!(stored.last_seq, 1);
}

fn assert_invalid_write(result: Result<(), StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::InvalidWrite(_))),
        "{what}: expected InvalidWrite, got {result:?}"
    );
}

async fn compaction_past_the_last_update_is_refused(store: &Arc<dyn DocStore>) {
    let key = doc("user:alice", "form");
    append(store, &key, b"u1").await;
    append(store, &key, b"u2").await;
    let before = load(store, &key).await;
    assert_invalid_write(store.compact(&key, b"s".to_vec(), 3).await, "through_seq > last_seq");
    assert_eq!(load(store, &key).await, before, "a refused compaction changes nothing");
    let unknown = doc("user:alice", "unknown");
    assert_invalid_write(store.compact(&unknown, b"s".to_vec(), 1).await, "an unknown document");
    assert_eq!(load(store, &unknown).await, StoredDoc::default());
    assert_eq!(store.doc_names(&key.scope).await.expect("names"), names(&["form"]), "nothing was created");
}

async fn a_stale_compaction_is_refused(store: &Arc<dyn DocStore>) {
    // Two compactors raced: the one through 3 lost, and its snapshot lacks updates 4 and 5.
    let key = doc("user:alice", "form");
    for i in 1..=6u8 {
        append(store, &key, &[i]).await;
    }
    store.compact(&key, b"s5".to_vec(), 5).await.expect("compact through 5");
    let before = load(store, &key).await;
    assert_invalid_write(store.compact(&key, b"s3".to_vec(), 3).await, "through_seq below the snapshot's");
    assert_eq!(load(store, &key).await, before, "the newer snapshot stays");
}

async fn versions_are_numbered_per_document_and_read_back_exactly(store: &Arc<dyn DocStore>) {
    let (a, b) = (doc("user:alice", "a"), doc("user:alice", "b"));
    assert!(store.versions(&a).await.expect("versions").is_empty());
    let big = every_byte(200 * 1024, 11);
    let save = |key: &DocKey, name: &str, secs: u64, state: Vec<u8>| {
        let (store, key, name) = (Arc::clone(store), key.clone(), name.to_owned());
        async move { store.save_version(&key, name, at(secs), state).await.expect("save version") }
    };
    let first = save(&a, "before checkout", 1, b"state-1".to_vec()).await;
    assert_eq!(first, VersionMeta { id: 1, name: "before checkout".into(), created_at: at(1) });
    let second = save(&a, "", 2, big.clone()).await;
    assert_eq!(second.id, 2);
    assert_eq!(save(&b, "other", 3, b"b".to_vec()).await.id, 1, "every document counts from 1");
    // Versions do not depend on the update log: compaction leaves them alone.
    append(store, &a, b"u1").await;
    store.compact(&a, b"s".to_vec(), 1).await.expect("compact");
    let third = save(&a, "ünïcode ✓", 0, Vec::new()).await;
    assert_eq!(third.id, 3, "ids keep counting whatever the timestamps");

    assert_eq!(
        store.versions(&a).await.expect("versions"),
        vec![first.clone(), second.clone(), third.clone()]
    );
    assert_eq!(store.version(&a, 1).await.expect("version"), Some((first, b"state-1".to_vec())));
    let (meta, state) = store.version(&a, 2).await.expect("version").expect("version 2");
    assert_eq!(meta, second);
    assert_same_bytes(&[state], &[big], "the state of version 2");
    assert_eq!(store.version(&a, 3).await.expect("version"), Some((third, Vec::new())));
    for unknown in [0, 4, u64::MAX] {
        assert!(store.version(&a, unknown).await.expect("version").is_none(), "version {unknown}");
    }
    assert!(store.version(&b, 2).await.expect("version").is_none(), "ids are per document");
    assert!(store.version(&doc("user:alice", "c"), 1).await.expect("version").is_none());
    assert_eq!(store.versions(&b).await.expect("versions").len(), 1);
}

async fn doc_names_lists_one_scope_sorted(store: &Arc<dyn DocStore>) {
    // Principals with '/' in them: `user:a/b` and `user:a` with a name starting `b` must not mix,
    // and neither may a principal that extends another.
    let scopes = ["user:a", "user:a/b", "user:a/b/c", "user:ab", "user:a b"];
    let written: [&[&str]; 5] =
        [&["zeta", "b", "Zeta", "a.b", "a-b", "a_b", "b-c", "0"], &["c", "alpha"], &["d"], &["x"], &["y"]];
    for (scope, list) in scopes.iter().zip(written) {
        for name in list {
            append(store, &doc(scope, name), scope.as_bytes()).await;
        }
    }
    let sid = SessionId::generate();
    let session = format!("session:{sid}");
    append(store, &doc(&session, "form"), b"s").await;

    for (text, list) in scopes.iter().zip(written) {
        let mut expected = names(list);
        expected.sort();
        assert_eq!(store.doc_names(&scope(text)).await.expect("names"), expected, "the documents of {text}");
    }
    assert_eq!(store.doc_names(&scope(&session)).await.expect("names"), names(&["form"]));
    assert!(store.doc_names(&scope("user:a/")).await.expect("names").is_empty());
    assert!(store.doc_names(&scope("user:nobody")).await.expect("names").is_empty());
    let other = format!("session:{}", SessionId::generate());
    assert!(store.doc_names(&scope(&other)).await.expect("names").is_empty());
}

async fn every_write_makes_a_document_listed(store: &Arc<dyn DocStore>) {
    let owner = scope("user:alice");
    append(store, &doc("user:alice", "appended"), b"u").await;
    store.compact(&doc("user:alice", "compacted"), b"s".to_vec(), 0).await.expect("compact");
    store
        .save_version(&doc("user:alice", "versioned"), "v".into(), at(0), b"v".to_vec())
        .await
        .expect("save");
    assert_eq!(store.doc_names(&owner).await.expect("names"), names(&["appended", "compacted", "versioned"]));
}

async fn scopes_are_independent(store: &Arc<dyn DocStore>) {
    let sid = SessionId::generate();
    let keys = [doc("user:a", "draft"), doc("user:a/b", "draft"), doc(&format!("session:{sid}"), "draft")];
    for (i, key) in keys.iter().enumerate() {
        for n in 0..=i {
            assert_eq!(append(store, key, &[i as u8, n as u8]).await, n as u64 + 1, "{key}");
        }
    }
    store.compact(&keys[1], b"snap".to_vec(), 2).await.expect("compact");
    store.save_version(&keys[2], "v".into(), at(0), b"v".to_vec()).await.expect("save");
    assert_eq!(
        load(store, &keys[0]).await,
        StoredDoc { snapshot: None, updates: vec![vec![0, 0]], last_seq: 1 }
    );
    assert_eq!(
        load(store, &keys[1]).await,
        StoredDoc { snapshot: Some(b"snap".to_vec()), updates: vec![], last_seq: 2 }
    );
    let third = load(store, &keys[2]).await;
    assert_eq!((third.snapshot, third.updates.len(), third.last_seq), (None, 3, 3));
    assert!(store.versions(&keys[0]).await.expect("versions").is_empty());
    assert!(store.versions(&keys[1]).await.expect("versions").is_empty());
    assert_eq!(store.versions(&keys[2]).await.expect("versions").len(), 1);
}

async fn concurrent_appends_get_distinct_sequence_numbers(store: &Arc<dyn DocStore>) {
    const TASKS: u64 = 64;
    let key = doc("user:alice", "busy");
    let mut tasks = Vec::new();
    for i in 0..TASKS {
        let (store, key) = (Arc::clone(store), key.clone());
        tasks.push(tokio::spawn(async move {
            let update = format!("update-{i}").into_bytes();
            let seq = store.append(&key, update.clone()).await.expect("append");
            (seq, update)
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.expect("task"));
    }
    let mut seqs: Vec<u64> = answers.iter().map(|(seq, _)| *seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=TASKS).collect::<Vec<_>>(), "64 appends, 64 distinct numbers from 1");
    let stored = load(store, &key).await;
    assert_eq!(stored.last_seq, TASKS);
    assert_eq!(stored.updates.len(), TASKS as usize, "every update loads back");
    for (seq, update) in &answers {
        assert_eq!(&stored.updates[(*seq - 1) as usize], update, "the update numbered {seq} is at its place");
    }
}

/// For stores that walk their documents (`scan_docs`; others refuse and are skipped): pages in
/// storage-key order, every document once, whatever its scope, and nothing after the last.
async fn a_walk_of_the_documents_meets_each_once_in_order(store: &Arc<dyn DocStore>) {
    let mut written: Vec<DocKey> = ["user:a", "user:a/b", "user:ab", "user:b"]
        .iter()
        .flat_map(|scope| ["x", "a", "m"].map(|name| doc(scope, name)))
        .collect();
    written.push(doc(&format!("session:{}", SessionId::generate()), "form"));
    for key in &written {
        append(store, key, b"w").await;
    }
    let mut walked = Vec::new();
    let mut after: Option<DocKey> = None;
    loop {
        let page = match store.scan_docs(after.as_ref(), 4).await {
            Ok(page) => page,
            Err(StoreError::InvalidWrite(_)) if walked.is_empty() => return,
            Err(error) => panic!("scan_docs failed: {error}"),
        };
        assert!(page.len() <= 4, "a page holds at most its limit");
        let Some(last) = page.last().cloned() else { break };
        walked.extend(page);
        after = Some(last);
    }
    written.sort_by_key(DocKey::storage_key);
    assert_eq!(walked, written, "every document once, in storage-key order");
}
