//! Two registries over one store, as two server nodes over a shared Redis or PostgreSQL: what one
//! appends reaches the other's peers when announced, and neither loses the other's updates when
//! it compacts, announced or not.

use std::sync::Arc;

use continuum_store::{DocStore, MemoryDocStore};
use continuum_sync::{AppendHook, PeerOptions, SyncConfig};
use serde_json::json;
use tokio::sync::mpsc;

use crate::common::*;

/// A hook sending every append of one node down a channel, as a bus would.
fn announcing() -> (AppendHook, mpsc::UnboundedReceiver<(continuum_core::DocKey, Vec<u8>)>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let hook: AppendHook = Arc::new(move |key, _seq, update| {
        let _ = sender.send((key.clone(), update.to_vec()));
    });
    (hook, receiver)
}

#[tokio::test]
async fn an_announced_append_reaches_the_other_nodes_peers_without_being_stored_twice() {
    let store = Arc::new(MemoryDocStore::new());
    let (a, b) =
        (registry(store.clone(), SyncConfig::default()), registry(store.clone(), SyncConfig::default()));
    let (hook, mut announced) = announcing();
    a.on_append(hook);
    let (doc_a, doc_b) = (a.open(&key("form")).await.unwrap(), b.open(&key("form")).await.unwrap());
    let (mut alice, mut bob) = (Client::new(1), Client::new(2));
    let mut alice_peer = connect(&doc_a, &mut alice, PeerOptions::default()).await;
    let mut bob_peer = connect(&doc_b, &mut bob, PeerOptions::default()).await;

    alice_peer.receive(&alice.set("name", "Alice")).await.unwrap();
    doc_a.flush().await.unwrap();
    let (announced_key, update) = tokio::time::timeout(SOON, announced.recv()).await.unwrap().unwrap();
    assert_eq!(announced_key, key("form"));
    let logged = store.load(&key("form")).await.unwrap();
    assert_eq!(logged.updates, std::slice::from_ref(&update), "the hook hears exactly what was appended");

    b.apply_durable(&key("form"), Some(&update)).await.unwrap();
    next(&mut bob_peer).await.map(|message| bob.handle(&message)).unwrap();
    assert_eq!(bob.json()["form"]["name"], "Alice", "B's peer has A's edit");
    assert_eq!(doc_b.to_json(), doc_a.to_json());
    // Applying it again (a duplicate notice) changes nothing and sends nothing.
    b.apply_durable(&key("form"), Some(&update)).await.unwrap();
    assert_eq!(drain(&mut bob_peer, &mut bob).await, 0);
    drop((bob_peer, doc_b));
    b.shutdown().await;
    assert_eq!(store.load(&key("form")).await.unwrap().last_seq, 1, "B did not store A's update again");
    drop((alice_peer, doc_a));
}

#[tokio::test]
async fn a_notice_without_the_update_reads_the_store_and_unknown_documents_are_left_alone() {
    let store = Arc::new(MemoryDocStore::new());
    let (a, b) =
        (registry(store.clone(), SyncConfig::default()), registry(store.clone(), SyncConfig::default()));
    let doc_a = a.open(&key("form")).await.unwrap();
    let doc_b = b.open(&key("form")).await.unwrap();
    doc_a.patch_json(&json!({"form": {"city": "Lyon"}})).await.unwrap();
    assert_eq!(doc_b.to_json(), json!({}), "not announced yet");
    b.apply_durable(&key("form"), None).await.unwrap();
    assert_eq!(doc_b.to_json()["form"]["city"], "Lyon");
    // A document B does not hold is not loaded by a notice.
    b.apply_durable(&key("other"), None).await.unwrap();
    assert_eq!(b.live_count(), 1);
}

#[tokio::test]
async fn compaction_keeps_updates_the_compacting_node_never_heard_of() {
    let store = Arc::new(MemoryDocStore::new());
    let config = SyncConfig { compact_after: 4, ..SyncConfig::default() };
    let (a, b) = (registry(store.clone(), config.clone()), registry(store.clone(), config));
    let doc_a = a.open(&key("form")).await.unwrap();
    let doc_b = b.open(&key("form")).await.unwrap();
    let mut watcher = Client::new(9);
    let mut watcher_peer = connect(&doc_a, &mut watcher, PeerOptions::default()).await;

    // B writes three fields nobody announces; then A writes enough to compact.
    for i in 0..3 {
        doc_b.patch_json(&json!({"form": {format!("b{i}"): i}})).await.unwrap();
    }
    for i in 0..6 {
        doc_a.patch_json(&json!({"form": {format!("a{i}"): i}})).await.unwrap();
    }
    let compacted = async {
        while store.load(&key("form")).await.unwrap().snapshot.is_none() {
            tokio::time::sleep(QUIET / 10).await;
        }
    };
    tokio::time::timeout(SOON, compacted).await.expect("A compacts after its appends");

    let fresh = registry(store.clone(), SyncConfig::default());
    let form = fresh.open(&key("form")).await.unwrap().to_json()["form"].clone();
    for i in 0..3 {
        assert_eq!(form[format!("b{i}")], i, "B's unannounced update b{i} survived A's compaction: {form}");
    }
    for i in 0..6 {
        assert_eq!(form[format!("a{i}")], i);
    }
    drain(&mut watcher_peer, &mut watcher).await;
    assert_eq!(watcher.json()["form"]["b2"], 2, "A's own peers received B's updates while compacting");
    drop((watcher_peer, doc_a, doc_b));
    a.shutdown().await;
    b.shutdown().await;
}
