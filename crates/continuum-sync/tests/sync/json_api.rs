//! The JSON API of a live document: patches, versions and restores, seen by connected peers.

use std::sync::Arc;

use continuum_store::MemoryDocStore;
use continuum_sync::{PeerOptions, SyncConfig, SyncError};
use serde_json::json;
use yrs::{Array, Map, MapPrelim, WriteTxn};

use crate::common::*;

#[tokio::test]
async fn patches_merge_into_root_maps_and_reach_peers() {
    let store = Arc::new(MemoryDocStore::new());
    let registry = registry(store.clone(), SyncConfig::default());
    let doc = registry.open(&key("patch")).await.unwrap();
    let mut alice = Client::new(1);
    let mut peer = connect(&doc, &mut alice, PeerOptions::default()).await;

    // The client built a nested shared map; the root arrives untyped on the server.
    peer.receive(&alice.edit(|txn| {
        let form = txn.get_or_insert_map("form");
        form.insert(txn, "name", "Ada");
        let address = form.insert(txn, "address", MapPrelim::default());
        address.insert(txn, "city", "Paris");
        address.insert(txn, "zip", "75001");
        form.insert(txn, "plain", yrs::Any::from_json(r#"{"a": 1, "b": 2}"#).unwrap());
    }))
    .await
    .unwrap();
    peer.receive(&alice.edit(|txn| {
        txn.get_or_insert_array("todo").push_back(txn, "pay");
    }))
    .await
    .unwrap();

    doc.patch_json(&json!({
        "form": {"name": null, "step": 3, "address": {"zip": null, "street": "Rue de Rivoli"}, "plain": {"a": null, "c": [1]}},
        "wizard": {"page": "shipping"},
    }))
    .await
    .unwrap();
    let expected = json!({
        "form": {"step": 3, "address": {"city": "Paris", "street": "Rue de Rivoli"}, "plain": {"b": 2, "c": [1]}},
        "todo": ["pay"],
        "wizard": {"page": "shipping"},
    });
    assert_eq!(doc.to_json(), expected);

    // The peer receives it as one sync update, and the store has it when patch_json returns.
    let update = next(&mut peer).await.unwrap();
    assert_eq!(&update[..2], &[0, 2], "a sync update message");
    alice.handle(&update);
    assert_eq!(alice.json(), expected);
    assert_eq!(drain(&mut peer, &mut alice).await, 0, "one transaction, one update");
    let reloaded = registry_reload(store, "patch").await;
    assert_eq!(reloaded, expected);

    // Clearing a root with null; refusing roots that are not maps, and patches that are not objects.
    doc.patch_json(&json!({"wizard": null})).await.unwrap();
    assert_eq!(doc.to_json()["wizard"], json!({}));
    let refused = doc.patch_json(&json!({"todo": {"x": 1}, "form": {"step": 4}})).await;
    assert!(matches!(&refused, Err(SyncError::NotAMap { root }) if root == "todo"), "{refused:?}");
    assert_eq!(doc.to_json()["form"]["step"], json!(3), "nothing of a refused patch applies");
    assert!(matches!(doc.patch_json(&json!(["form"])).await, Err(SyncError::InvalidPatch(_))));
    assert!(matches!(doc.patch_json(&json!({"form": 1})).await, Err(SyncError::InvalidPatch(_))));
}

/// The document as a fresh registry loads it from `store`.
async fn registry_reload(store: Arc<MemoryDocStore>, name: &str) -> serde_json::Value {
    registry(store, SyncConfig::default()).open(&key(name)).await.unwrap().to_json()
}

#[tokio::test]
async fn a_restored_version_reaches_every_replica() {
    let registry = registry(Arc::new(MemoryDocStore::new()), SyncConfig::default());
    let doc = registry.open(&key("history")).await.unwrap();
    let mut alice = Client::new(1);
    let mut peer = connect(&doc, &mut alice, PeerOptions::default()).await;

    doc.patch_json(&json!({"form": {"name": "Ada", "step": 1}, "cart": {"items": 2}})).await.unwrap();
    let v1 = doc.save_version("before payment".to_owned()).await.unwrap();
    assert_eq!((v1.id, v1.name.as_str()), (1, "before payment"));
    doc.patch_json(
        &json!({"form": {"name": "Grace", "step": 4, "card": "4242"}, "cart": null, "extra": {"x": 1}}),
    )
    .await
    .unwrap();
    peer.receive(&alice.set("typed_later", true)).await.unwrap();
    let v2 = doc.save_version("after".to_owned()).await.unwrap();
    assert_eq!(doc.versions().await.unwrap(), vec![v1.clone(), v2]);

    let (meta, json) = doc.version_json(1).await.unwrap().unwrap();
    assert_eq!(meta, v1);
    assert_eq!(json, json!({"form": {"name": "Ada", "step": 1}, "cart": {"items": 2}}));
    assert_eq!(doc.version_json(9).await.unwrap(), None);
    assert!(!doc.restore(9).await.unwrap());

    drain(&mut peer, &mut alice).await;
    assert!(doc.restore(1).await.unwrap());
    let restored = json!({"form": {"name": "Ada", "step": 1}, "cart": {"items": 2}, "extra": {}});
    assert_eq!(doc.to_json(), restored);
    // The connected client converges on it through an ordinary update.
    alice.handle(&next(&mut peer).await.unwrap());
    assert_eq!(alice.json(), restored);
    // Restoring again changes nothing.
    assert!(doc.restore(1).await.unwrap());
    assert_eq!(drain(&mut peer, &mut alice).await, 0);
}
