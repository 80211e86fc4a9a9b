//! Limits: oversized messages and documents are refused and leave nothing behind; slow peers
//! are detached.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use continuum_sync::{PeerOptions, SyncConfig, SyncError};
use serde_json::json;
use yrs::{Text, WriteTxn};

use crate::common::*;

#[tokio::test]
async fn an_oversized_message_is_refused_before_anything_happens() {
    let store = FaultyStore::new();
    let config = SyncConfig { max_message_bytes: 1024, ..SyncConfig::default() };
    let registry = registry(store.clone(), config);
    let doc = registry.open(&key("big-message")).await.unwrap();
    let (mut alice, mut bob) = (Client::new(1), Client::new(2));
    let mut alice_peer = connect(&doc, &mut alice, PeerOptions::default()).await;
    let mut bob_peer = connect(&doc, &mut bob, PeerOptions::default()).await;

    let message = alice.set("blob", "x".repeat(2000));
    let refused = alice_peer.receive(&message).await;
    assert!(
        matches!(refused, Err(SyncError::MessageTooLarge { limit: 1024, size }) if size == message.len())
    );
    assert_eq!(doc.to_json(), json!({}));
    assert_eq!(drain(&mut bob_peer, &mut bob).await, 0);
    doc.flush().await.unwrap();
    assert_eq!(store.appends_started.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_update_past_the_document_limit_is_not_applied_broadcast_or_persisted() {
    let store = FaultyStore::new();
    let config = SyncConfig { max_doc_bytes: 4096, ..SyncConfig::default() };
    let registry = registry(store.clone(), config);
    let doc = registry.open(&key("big-doc")).await.unwrap();
    let (mut alice, mut bob) = (Client::new(1), Client::new(2));
    let mut alice_peer =
        connect(&doc, &mut alice, PeerOptions { acks: true, ..PeerOptions::default() }).await;
    let mut bob_peer = connect(&doc, &mut bob, PeerOptions::default()).await;

    // Small edits fit, many times over the update count.
    for i in 0..20 {
        alice_peer
            .receive(&alice.edit(|txn| txn.get_or_insert_text("t").push(txn, &i.to_string())))
            .await
            .unwrap();
    }
    doc.flush().await.unwrap();
    let appended = store.appends_started.load(Ordering::SeqCst);
    let before = doc.to_json();

    let refused = alice_peer.receive(&alice.set("blob", "x".repeat(5000))).await;
    assert!(matches!(refused, Err(SyncError::DocTooLarge { limit: 4096 })), "{refused:?}");
    assert_eq!(doc.to_json(), before, "not applied");
    drain(&mut bob_peer, &mut bob).await;
    assert_eq!(bob.json(), before, "not broadcast");
    doc.flush().await.unwrap();
    assert_eq!(store.appends_started.load(Ordering::SeqCst), appended, "not persisted");

    // The same limit holds for the JSON API.
    let refused = doc.patch_json(&json!({"form": {"blob": "y".repeat(5000)}})).await;
    assert!(matches!(refused, Err(SyncError::DocTooLarge { .. })), "{refused:?}");
    assert_eq!(doc.to_json(), before);
}

#[tokio::test]
async fn a_peer_too_slow_for_its_queue_is_detached_and_the_others_go_on() {
    let config = SyncConfig { outbound_capacity: 4, ..SyncConfig::default() };
    let registry = registry(Arc::new(continuum_store::MemoryDocStore::new()), config);
    let doc = registry.open(&key("slow")).await.unwrap();
    let (mut alice, mut slow, mut fast) = (Client::new(1), Client::new(2), Client::new(3));
    let mut alice_peer = connect(&doc, &mut alice, PeerOptions::default()).await;
    let mut slow_peer = connect(&doc, &mut slow, PeerOptions::default()).await;
    let mut fast_peer = connect(&doc, &mut fast, PeerOptions::default()).await;
    slow_peer.receive(&slow.announce(json!({"device": "slow"}))).await.unwrap();
    fast.handle(&next(&mut fast_peer).await.unwrap());
    assert!(fast.awareness.state::<serde_json::Value>(yrs::ClientID::new(2)).is_some());

    for i in 0..10 {
        alice_peer.receive(&alice.set("n", i)).await.unwrap();
        drain(&mut fast_peer, &mut fast).await;
    }
    assert_eq!(doc.peer_count(), 2, "the slow peer was let go");
    assert!(slow_peer.is_detached());
    assert_eq!(
        tokio::time::timeout(SOON, slow_peer.next_outbound()).await.unwrap(),
        None,
        "its queue is dropped"
    );
    assert!(matches!(slow_peer.receive(&slow.step1()).await, Err(SyncError::Detached)));
    assert_eq!(fast.json()["form"]["n"], json!(9));
    assert_eq!(
        fast.awareness.state::<serde_json::Value>(yrs::ClientID::new(2)),
        None,
        "its awareness left with it"
    );

    // Reconnecting resyncs everything it missed.
    drop(slow_peer);
    let _again = connect(&doc, &mut slow, PeerOptions::default()).await;
    assert_eq!(slow.json(), doc.to_json());
}

#[tokio::test]
async fn a_peer_cannot_flood_the_awareness_table() {
    let registry = registry(Arc::new(continuum_store::MemoryDocStore::new()), SyncConfig::default());
    let doc = registry.open(&key("aware-flood")).await.unwrap();
    let mut flooder = doc.connect(PeerOptions::default());
    let clients = (1000..1100)
        .map(|id| {
            let entry = yrs::sync::awareness::AwarenessUpdateEntry { clock: 1, json: r#"{"x":1}"#.into() };
            (yrs::ClientID::new(id), entry)
        })
        .collect();
    let flood = continuum_sync::protocol::awareness(yrs::sync::AwarenessUpdate { clients });
    flooder.receive(&flood).await.unwrap();

    let mut observer = Client::new(1);
    let peer = connect(&doc, &mut observer, PeerOptions::default()).await;
    let known = (1000..1100)
        .filter(|id| observer.awareness.state::<serde_json::Value>(yrs::ClientID::new(*id)).is_some())
        .count();
    assert_eq!(known, 16);

    // They leave with their peer.
    drop(flooder);
    let replies = peer.doc().connect(PeerOptions::default()).take_greeting();
    assert_eq!(replies.len(), 1, "no awareness states left");
}

#[tokio::test]
async fn a_relay_of_another_tier_speaks_for_more_clients_but_boundedly_and_is_not_a_device() {
    let registry = registry(Arc::new(continuum_store::MemoryDocStore::new()), SyncConfig::default());
    let doc = registry.open(&key("aware-relay")).await.unwrap();
    let relay_options = PeerOptions { read_only: true, relay: true, ..PeerOptions::default() };
    let mut relay = doc.connect(relay_options);
    assert_eq!((doc.peer_count(), doc.device_count()), (1, 0), "a relay is not a device");
    let many = continuum_sync::MAX_RELAYED_CLIENTS as u64 + 50;
    let clients = (1000..1000 + many)
        .map(|id| {
            let entry = yrs::sync::awareness::AwarenessUpdateEntry { clock: 1, json: r#"{"x":1}"#.into() };
            (yrs::ClientID::new(id), entry)
        })
        .collect();
    relay
        .receive(&continuum_sync::protocol::awareness(yrs::sync::AwarenessUpdate { clients }))
        .await
        .unwrap();

    let mut observer = Client::new(1);
    let _peer = connect(&doc, &mut observer, PeerOptions::default()).await;
    assert_eq!((doc.peer_count(), doc.device_count()), (2, 1));
    let known = (1000..1000 + many)
        .filter(|id| observer.awareness.state::<serde_json::Value>(yrs::ClientID::new(*id)).is_some())
        .count();
    assert_eq!(known, continuum_sync::MAX_RELAYED_CLIENTS, "past 16, up to the relay bound");
}
