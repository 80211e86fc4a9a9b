//! The registry: one live document per key, eviction and reloading.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use continuum_sync::{PeerOptions, SyncConfig};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn concurrent_opens_share_one_load_and_one_document() {
    let store = FaultyStore::with_load_delay(Duration::from_millis(50));
    let registry = registry(store.clone(), SyncConfig::default());
    let opens: Vec<_> = (0..8)
        .map(|_| {
            let registry = registry.clone();
            tokio::spawn(async move { registry.open(&key("shared")).await.unwrap() })
        })
        .collect();
    let mut docs = Vec::new();
    for open in opens {
        docs.push(open.await.unwrap());
    }
    assert!(docs.iter().all(|doc| Arc::ptr_eq(doc, &docs[0])));
    assert_eq!(store.loads.load(Ordering::SeqCst), 1);
    assert_eq!(registry.live_count(), 1);
    assert!(!Arc::ptr_eq(&docs[0], &registry.open(&key("other")).await.unwrap()));
}

#[tokio::test]
async fn the_last_peer_leaving_evicts_and_the_next_open_reloads() {
    let store = FaultyStore::new();
    let registry = registry(store.clone(), SyncConfig::default());
    let mut alice = Client::new(1);
    let peer = {
        let doc = registry.open(&key("evict")).await.unwrap();
        let mut peer = connect(&doc, &mut alice, PeerOptions::default()).await;
        peer.receive(&alice.set("kept", "yes")).await.unwrap();
        peer
    };
    assert_eq!(registry.live_count(), 1, "the peer holds it");
    assert_eq!(peer.doc().peer_count(), 1);
    drop(peer);
    assert_eq!(registry.live_count(), 0);
    registry.shutdown().await;

    let doc = registry.open(&key("evict")).await.unwrap();
    assert_eq!(store.loads.load(Ordering::SeqCst), 2);
    assert_eq!(doc.to_json(), json!({"form": {"kept": "yes"}}));
}

#[tokio::test]
async fn a_failed_load_is_not_cached() {
    let store = FaultyStore::new();
    store.inner.append(&key("broken"), vec![1, 2, 3, 200, 200]).await.unwrap();
    use continuum_store::DocStore;
    let registry = registry(store.clone(), SyncConfig::default());
    let refused = registry.open(&key("broken")).await;
    assert!(matches!(refused, Err(continuum_sync::SyncError::Corrupt(_))), "{refused:?}");
    assert_eq!(registry.live_count(), 0);
    assert!(registry.open(&key("broken")).await.is_err());
    assert_eq!(store.loads.load(Ordering::SeqCst), 2, "tried again");
}

#[tokio::test]
async fn live_docs_lists_held_documents_with_their_peers_sessions() {
    let registry = registry(FaultyStore::new(), SyncConfig::default());
    let session = continuum_core::SessionId::from_bytes([7; 16]);
    let (mut alice, mut backend) = (Client::new(1), Client::new(2));
    let b = registry.open(&key("b")).await.unwrap();
    let a = registry.open(&key("a")).await.unwrap();
    let alice_peer = connect(
        &b,
        &mut alice,
        PeerOptions { acks: false, session: Some(session), ..PeerOptions::default() },
    )
    .await;
    let _backend_peer = connect(&b, &mut backend, PeerOptions::default()).await;
    let listed = registry.live_docs();
    assert_eq!(listed.iter().map(|doc| doc.key.clone()).collect::<Vec<_>>(), vec![key("a"), key("b")]);
    assert!(listed[0].peers.is_empty());
    assert_eq!(listed[1].peers, vec![Some(session), None]);
    drop((alice_peer, a));
    let listed = registry.live_docs();
    assert_eq!(listed.len(), 1, "a document nobody holds is not listed");
    assert_eq!(listed[0].peers, vec![None], "a peer that left is not listed");
}
