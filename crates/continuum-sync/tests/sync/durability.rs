//! Durability: acks after the append, reloads after dropping everything (and after
//! compaction), and what a failing store does.

use std::sync::atomic::Ordering;

use continuum_sync::{PeerOptions, SyncConfig, SyncError};
use serde_json::json;
use yrs::{ReadTxn, Text, Transact, WriteTxn};

use crate::common::*;

#[tokio::test]
async fn acks_count_content_messages_and_come_only_after_the_append() {
    let store = FaultyStore::new();
    let registry = registry(store.clone(), SyncConfig::default());
    let doc = registry.open(&key("acks")).await.unwrap();
    let (mut alice, mut bob) = (Client::new(1), Client::new(2));
    let mut alice_peer =
        connect(&doc, &mut alice, PeerOptions { acks: true, ..PeerOptions::default() }).await;
    let mut bob_peer = connect(&doc, &mut bob, PeerOptions::default()).await;
    // Alice's step 2 (her answer to the greeting) was content-bearing message 1.
    assert_eq!(next(&mut alice_peer).await.and_then(|m| continuum_sync::decode_ack(&m)), Some(1));

    store.close_gate();
    for i in 0..3 {
        // `receive` returns without waiting for the store...
        tokio::time::timeout(QUIET, alice_peer.receive(&alice.set("n", i))).await.expect("no wait").unwrap();
    }
    // ...and bob sees the changes before they are durable.
    assert_eq!(drain(&mut bob_peer, &mut bob).await, 3);
    assert_eq!(bob.json()["form"]["n"], json!(2));
    // No ack while the append is held.
    assert!(
        tokio::time::timeout(QUIET, alice_peer.next_outbound()).await.is_err(),
        "no ack before the append"
    );
    assert_eq!(store.appends_started.load(Ordering::SeqCst), 1, "the first update is held at the gate");
    assert_eq!(store.appends_done.load(Ordering::SeqCst), 0);

    store.open_gate();
    while alice.acked < 4 {
        let message = next(&mut alice_peer).await.unwrap();
        assert!(alice.handle(&message).is_empty());
        // Whatever an ack covers is in the store when it arrives.
        let stored = store.stored_doc(&key("acks")).await;
        let stored_n = continuum_sync::json::doc_to_json(&stored.transact())["form"]["n"].clone();
        assert!(
            alice.acked < 4 || stored_n == json!(2),
            "ack {} but the store has n = {stored_n}",
            alice.acked
        );
    }
    assert_eq!(alice.acked, 4, "step 2 + three updates");
    assert!(alice.ack_messages <= 3, "queued updates are acked together: {} acks", alice.ack_messages);

    // A message that changes nothing (here: a resent update) still counts, acked in order.
    let message = alice.set("n", 9);
    alice_peer.receive(&message).await.unwrap();
    alice_peer.receive(&message).await.unwrap();
    while alice.acked < 6 {
        alice.handle(&next(&mut alice_peer).await.unwrap());
    }

    // Bob asked for no acks and got none: only alice's updates.
    let mut bob_messages = Vec::new();
    while let Ok(Some(message)) = tokio::time::timeout(QUIET, bob_peer.next_outbound()).await {
        bob_messages.push(message);
    }
    assert!(!bob_messages.is_empty());
    assert!(bob_messages.iter().all(|m| m[0] != 100), "a peer without acks gets no type 100");
}

#[tokio::test]
async fn updates_survive_dropping_everything_and_compaction() {
    let store = FaultyStore::new();
    let config = SyncConfig { compact_after: 10, ..SyncConfig::default() };
    let mut alice = Client::new(1);
    {
        let registry = registry(store.clone(), config.clone());
        let doc = registry.open(&key("durable")).await.unwrap();
        let mut peer = connect(&doc, &mut alice, PeerOptions::default()).await;
        for i in 0..25 {
            peer.receive(&alice.set(&format!("field{i}"), i)).await.unwrap();
            // One at a time, so that each becomes its own log entry.
            doc.flush().await.unwrap();
        }
        drop(peer);
        drop(doc);
        registry.shutdown().await;
        assert_eq!(registry.live_count(), 0);
    }
    assert!(store.compactions.load(Ordering::SeqCst) >= 2, "compacted every 10 updates");
    let stored = store.stored(&key("durable")).await;
    assert!(stored.snapshot.is_some());
    assert!(stored.updates.len() < 10, "{} updates after the snapshot", stored.updates.len());

    let registry = registry(store.clone(), config);
    let doc = registry.open(&key("durable")).await.unwrap();
    assert_eq!(doc.to_json(), alice.json());
    assert_eq!(doc.to_json()["form"]["field24"], json!(24));
    // A client with everything gets an empty diff on reconnect.
    let mut peer = doc.connect(PeerOptions::default());
    let replies = peer.receive(&alice.step1()).await.unwrap();
    let before = alice.doc().transact().state_vector();
    alice.handle(&replies[0]);
    assert_eq!(alice.doc().transact().state_vector(), before);
}

#[tokio::test]
async fn an_evicted_document_is_written_out_before_it_is_reloaded() {
    let store = FaultyStore::new();
    let registry = registry(store.clone(), SyncConfig::default());
    let mut alice = Client::new(1);
    let doc = registry.open(&key("evict")).await.unwrap();
    let mut peer = connect(&doc, &mut alice, PeerOptions::default()).await;
    assert_eq!(registry.live_count(), 1);

    store.close_gate();
    peer.receive(&alice.set("unsaved", true)).await.unwrap();
    drop(peer);
    drop(doc);
    assert_eq!(registry.live_count(), 0, "nobody holds it");

    // Reopening waits for the write-out rather than loading a store that lacks the update.
    let reopen = tokio::spawn({
        let registry = registry.clone();
        async move { registry.open(&key("evict")).await }
    });
    tokio::time::sleep(QUIET).await;
    assert!(!reopen.is_finished(), "open waits while the append is held");
    store.open_gate();
    let doc = tokio::time::timeout(SOON, reopen).await.unwrap().unwrap().unwrap();
    assert_eq!(store.loads.load(Ordering::SeqCst), 2, "loaded again from the store");
    assert_eq!(doc.to_json()["form"]["unsaved"], json!(true));
}

#[tokio::test]
async fn a_failing_store_detaches_peers_and_nothing_acknowledged_is_lost() {
    let store = FaultyStore::new();
    let registry = registry(store.clone(), SyncConfig::default());
    let mut alice = Client::new(1);
    let doc = registry.open(&key("fail")).await.unwrap();
    let mut peer = connect(&doc, &mut alice, PeerOptions { acks: true, ..PeerOptions::default() }).await;
    doc.patch_json(&json!({"form": {"saved": 1}})).await.unwrap();

    store.fail_appends.store(true, Ordering::SeqCst);
    peer.receive(&alice.set("lost_in_memory", 1)).await.unwrap();
    let refused = doc.patch_json(&json!({"form": {"api": 1}})).await;
    assert!(matches!(refused, Err(SyncError::Persistence(_))), "{refused:?}");
    // The peer is let go; its next message is refused.
    while let Some(message) = next(&mut peer).await {
        alice.handle(&message);
    }
    assert!(peer.is_detached());
    assert!(matches!(peer.receive(&alice.set("x", 1)).await, Err(SyncError::Detached)));
    assert!(alice.acked <= 1, "only the step 2 before the failure may be acked, got {}", alice.acked);
    drop(peer);
    drop(doc);

    // The store recovers; the client reconnects and its step 2 brings back what was lost.
    store.fail_appends.store(false, Ordering::SeqCst);
    let doc = registry.open(&key("fail")).await.unwrap();
    assert_eq!(doc.to_json()["form"], json!({"saved": 1}), "reloaded from the store");
    let peer = connect(&doc, &mut alice, PeerOptions::default()).await;
    doc.flush().await.unwrap();
    let stored = store.stored_doc(&key("fail")).await;
    let stored = continuum_sync::json::doc_to_json(&stored.transact());
    assert_eq!(stored["form"]["lost_in_memory"], json!(1));
    assert_eq!(stored["form"]["saved"], json!(1));
    drop(peer);
}

#[tokio::test]
async fn an_update_that_arrives_before_its_dependency_is_kept_across_a_reload() {
    let store = FaultyStore::new();
    let writer = Client::new(7);
    let first = writer.edit(|txn| txn.get_or_insert_text("notes").push(txn, "first "));
    let second = writer.edit(|txn| txn.get_or_insert_text("notes").push(txn, "second"));
    {
        let registry = registry(store.clone(), SyncConfig::default());
        let doc = registry.open(&key("order")).await.unwrap();
        let mut peer = doc.connect(PeerOptions::default());
        peer.receive(&second).await.unwrap();
        doc.flush().await.unwrap();
        assert_eq!(doc.to_json(), json!({}), "it cannot be integrated yet");
        drop(peer);
        drop(doc);
        registry.shutdown().await;
    }
    let registry = registry(store.clone(), SyncConfig::default());
    let doc = registry.open(&key("order")).await.unwrap();
    let mut peer = doc.connect(PeerOptions::default());
    peer.receive(&first).await.unwrap();
    assert_eq!(doc.to_json(), json!({"notes": "first second"}));
}
