//! Round trips counted on the wire: the store talks to PostgreSQL through a proxy that counts
//! the protocol messages it sends (see `common::proxy`). Each store operation must be one round
//! trip running one statement, with no statement prepared on the way — also on a connection
//! that never ran it before, since connections prepare every statement when they open.

mod common;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use common::proxy::{CountingProxy, Counts, upstream};
use common::{START, TestSchema};
use continuum_core::{DocKey, ManualClock, Token};
use continuum_store::{DocStore, SessionStore};
use serde_json::json;

/// What `operation` sent through `proxy`.
async fn measure<T>(proxy: &CountingProxy, operation: impl Future<Output = T>) -> (T, Counts) {
    let before = proxy.counts();
    let value = operation.await;
    (value, proxy.counts() - before)
}

const ONE: Counts = Counts { round_trips: 1, statements: 1, parses: 0 };

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_is_one_round_trip_and_one_statement() {
    let schema = TestSchema::new();
    schema.store().await; // migrated directly, so the proxy sees only the store's own traffic
    let proxy = CountingProxy::start(upstream()).await;
    let store = continuum_store_postgres::PostgresStore::connect(schema.config_via(proxy.addr.port()))
        .await
        .expect("connect through the proxy");
    let opened = proxy.counts();
    assert!(opened.parses > 0, "the proxy sees the statements prepared when a connection opens: {opened:?}");
    let clock = ManualClock::new(START);
    let sessions = common::sessions(&store, &clock);

    let (created, token) = sessions.create(Default::default()).await.expect("create");
    let sid = token.sid;
    let (got, counts) = measure(&proxy, store.get(&sid)).await;
    assert!(got.expect("get").is_some());
    assert_eq!(counts, ONE, "get, the first statement this connection runs");

    let mut next = (*created).clone();
    next.version += 1;
    next.attributes.insert("k".into(), json!(1));
    let (replaced, counts) = measure(&proxy, store.replace(1, Arc::new(next.clone()))).await;
    replaced.expect("replace");
    assert_eq!(counts, ONE, "replace");
    let (conflict, counts) = measure(&proxy, store.replace(1, Arc::new(next.clone()))).await;
    assert!(conflict.is_err());
    assert_eq!(counts, ONE, "a refused replace learns the actual version in the same round trip");

    let mut other = (*created).clone();
    other.sid = Token::generate().sid;
    let (inserted, counts) = measure(&proxy, store.insert(Arc::new(other))).await;
    inserted.expect("insert");
    assert_eq!(counts, ONE, "insert");
    let (touched, counts) = measure(&proxy, store.touch(&sid, START + Duration::from_secs(600))).await;
    touched.expect("touch");
    assert_eq!(counts, ONE, "touch");
    let (listed, counts) = measure(&proxy, store.list_by_principal(&created.principal)).await;
    assert_eq!(listed.expect("list").len(), 2, "the session and its copy under another id");
    assert_eq!(counts, ONE, "list_by_principal");
    let (purged, counts) = measure(&proxy, store.purge_expired(START, 100)).await;
    assert_eq!(purged.expect("purge").len(), 0);
    assert_eq!(counts, ONE, "purge_expired");
    let (count, counts) = measure(&proxy, store.count()).await;
    assert_eq!(count.expect("count"), 2);
    assert_eq!(counts, ONE, "count");

    // The service's operations: a validation that needs no touch is one read; a patch is one
    // read and one write.
    let (validated, counts) = measure(&proxy, sessions.validate(&token)).await;
    validated.expect("validate");
    assert_eq!(counts, ONE, "validate (lazy touch not due)");
    let (patched, counts) = measure(&proxy, sessions.patch_attributes(&sid, &json!({"a": 1}), None)).await;
    patched.expect("patch");
    assert_eq!(counts, Counts { round_trips: 2, statements: 2, parses: 0 }, "patch: get + replace");

    let key = DocKey::parse("user:alice", "draft").expect("key");
    let (seq, counts) = measure(&proxy, store.append(&key, b"u1".to_vec())).await;
    assert_eq!(seq.expect("append"), 1);
    assert_eq!(counts, ONE, "append");
    let (loaded, counts) = measure(&proxy, store.load(&key)).await;
    assert_eq!(loaded.expect("load").updates.len(), 1);
    assert_eq!(counts, ONE, "load");
    let (compacted, counts) = measure(&proxy, store.compact(&key, b"s".to_vec(), 1)).await;
    compacted.expect("compact");
    assert_eq!(counts, ONE, "compact");
    let (refused, counts) = measure(&proxy, store.compact(&key, b"s".to_vec(), 9)).await;
    assert!(refused.is_err());
    assert_eq!(counts, ONE, "a refused compaction");
    let (saved, counts) = measure(&proxy, store.save_version(&key, "v".into(), START, b"v".to_vec())).await;
    assert_eq!(saved.expect("save").id, 1);
    assert_eq!(counts, ONE, "save_version");
    let (versions, counts) = measure(&proxy, store.versions(&key)).await;
    assert_eq!(versions.expect("versions").len(), 1);
    assert_eq!(counts, ONE, "versions");
    let (version, counts) = measure(&proxy, store.version(&key, 1)).await;
    assert!(version.expect("version").is_some());
    assert_eq!(counts, ONE, "version");
    let (names, counts) = measure(&proxy, store.doc_names(&key.scope)).await;
    assert_eq!(names.expect("names").len(), 1);
    assert_eq!(counts, ONE, "doc_names");

    assert_eq!(store.pool_status().size, 1, "everything ran on the one connection opened at connect");
}
