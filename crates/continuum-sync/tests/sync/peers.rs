//! Peers of one document: convergence, resync after a reconnect, awareness.

use std::sync::Arc;

use continuum_store::MemoryDocStore;
use continuum_sync::{PeerOptions, SyncConfig};
use serde_json::json;
use yrs::{GetString, Text, Transact, WriteTxn};

use crate::common::*;

#[tokio::test]
async fn two_peers_converge_after_concurrent_edits() {
    let registry = registry(Arc::new(MemoryDocStore::new()), SyncConfig::default());
    let doc = registry.open(&key("form")).await.unwrap();
    let (mut alice, mut bob) = (Client::new(1), Client::new(2));
    let mut alice_peer = connect(&doc, &mut alice, PeerOptions::default()).await;
    let mut bob_peer = connect(&doc, &mut bob, PeerOptions::default()).await;

    // Both edit before seeing the other's change, including the same field and the same text.
    let from_alice = [
        alice.set("name", "Alice"),
        alice.set("step", 2),
        alice.edit(|txn| txn.get_or_insert_text("notes").push(txn, "from alice. ")),
    ];
    let from_bob = [
        bob.set("name", "Bob"),
        bob.set("email", "bob@example.com"),
        bob.edit(|txn| txn.get_or_insert_text("notes").push(txn, "from bob. ")),
    ];
    for (a, b) in from_alice.iter().zip(&from_bob) {
        assert!(alice_peer.receive(a).await.unwrap().is_empty());
        assert!(bob_peer.receive(b).await.unwrap().is_empty());
    }
    assert_eq!(drain(&mut alice_peer, &mut alice).await, 3, "bob's three updates, not alice's own");
    assert_eq!(drain(&mut bob_peer, &mut bob).await, 3);

    assert_eq!(alice.json(), bob.json());
    assert_eq!(alice.json(), doc.to_json());
    let notes = doc.to_json()["notes"].as_str().unwrap().to_owned();
    assert!(notes.contains("from alice. ") && notes.contains("from bob. "), "{notes}");
    assert_eq!(doc.to_json()["form"]["step"], json!(2));
    assert_eq!(doc.to_json()["form"]["email"], json!("bob@example.com"));
}

#[tokio::test]
async fn a_reconnecting_peer_gets_only_what_it_missed() {
    let registry = registry(Arc::new(MemoryDocStore::new()), SyncConfig::default());
    let doc = registry.open(&key("long")).await.unwrap();
    let mut alice = Client::new(1);
    let mut bob = Client::new(2);
    let mut bob_peer = connect(&doc, &mut bob, PeerOptions::default()).await;
    {
        let mut alice_peer = connect(&doc, &mut alice, PeerOptions::default()).await;
        for i in 0..300 {
            let message =
                alice.edit(|txn| txn.get_or_insert_text("essay").push(txn, &format!("sentence {i}. ")));
            alice_peer.receive(&message).await.unwrap();
        }
        drain(&mut bob_peer, &mut bob).await;
    } // alice goes offline

    for i in 0..3 {
        bob_peer.receive(&bob.set(&format!("missed{i}"), i)).await.unwrap();
    }

    // Alice comes back with her state vector and gets a step 2 with bob's three changes only.
    let mut alice_peer = doc.connect(PeerOptions::default());
    let replies = alice_peer.receive(&alice.step1()).await.unwrap();
    let [step2] = replies.as_slice() else { panic!("one reply: {replies:?}") };
    let full = full_state(bob.doc()).len();
    assert!(full > 4_000, "the document grew: {full} bytes");
    assert!(step2.len() * 20 < full, "step 2 is {} bytes of a {full}-byte document", step2.len());
    alice.handle(step2);
    assert_eq!(alice.json(), doc.to_json());
    assert_eq!(alice.json()["form"], json!({"missed0": 0, "missed1": 1, "missed2": 2}));
    let essay = alice.doc().get_or_insert_text("essay");
    assert!(essay.get_string(&alice.doc().transact()).ends_with("sentence 299. "));
}

#[tokio::test]
async fn awareness_reaches_new_peers_and_leaves_with_its_peer() {
    let registry = registry(Arc::new(MemoryDocStore::new()), SyncConfig::default());
    let doc = registry.open(&key("aware")).await.unwrap();
    let (mut alice, mut bob) = (Client::new(11), Client::new(22));

    let mut alice_peer = connect(&doc, &mut alice, PeerOptions::default()).await;
    let alice_greeting = doc.connect(PeerOptions::default()).take_greeting();
    assert_eq!(alice_greeting.len(), 1, "no awareness yet: the greeting is sync step 1 alone");
    let announcement = alice.announce(json!({"device": "laptop", "route": "/checkout/2"}));
    assert!(alice_peer.receive(&announcement).await.unwrap().is_empty());
    // Awareness goes out once per tick; let alice's tick pass before bob arrives.
    tokio::time::sleep(SyncConfig::default().awareness_tick * 4).await;

    // Bob's greeting carries alice's state.
    let mut bob_peer = connect(&doc, &mut bob, PeerOptions::default()).await;
    let state: serde_json::Value = bob.awareness.state(yrs::ClientID::new(11)).expect("alice's state");
    assert_eq!(state, json!({"device": "laptop", "route": "/checkout/2"}));

    // Bob's own announcement is relayed to alice, not echoed to bob.
    bob_peer.receive(&bob.announce(json!({"device": "phone"}))).await.unwrap();
    alice.handle(&next(&mut alice_peer).await.unwrap());
    assert!(alice.awareness.state::<serde_json::Value>(yrs::ClientID::new(22)).is_some());
    assert_eq!(drain(&mut bob_peer, &mut bob).await, 0);

    // A query gets every state back.
    let replies = bob_peer.receive(&[3]).await.unwrap();
    let mut fresh = Client::new(33);
    fresh.handle(&replies[0]);
    assert!(fresh.awareness.state::<serde_json::Value>(yrs::ClientID::new(11)).is_some());
    assert!(fresh.awareness.state::<serde_json::Value>(yrs::ClientID::new(22)).is_some());

    // Alice's connection drops: bob is told her state is gone.
    drop(alice_peer);
    bob.handle(&next(&mut bob_peer).await.unwrap());
    assert_eq!(bob.awareness.state::<serde_json::Value>(yrs::ClientID::new(11)), None);
    assert!(!doc.connect(PeerOptions::default()).take_greeting().iter().any(|message| {
        let mut probe = Client::new(44);
        probe.handle(message);
        probe.awareness.state::<serde_json::Value>(yrs::ClientID::new(11)).is_some()
    }));
}

#[tokio::test]
async fn a_backlog_drains_without_waiting_in_order_and_stops_at_a_detach() {
    let config = SyncConfig { outbound_capacity: 8, ..SyncConfig::default() };
    let registry = registry(Arc::new(MemoryDocStore::new()), config);
    let doc = registry.open(&key("backlog")).await.unwrap();
    let (mut alice, mut bob) = (Client::new(1), Client::new(2));
    let mut alice_peer = connect(&doc, &mut alice, PeerOptions::default()).await;
    let mut bob_peer = connect(&doc, &mut bob, PeerOptions::default()).await;
    assert_eq!(bob_peer.try_next_outbound(), None, "nothing queued yet");

    for i in 0..5 {
        alice_peer
            .receive(&alice.edit(|txn| txn.get_or_insert_text("t").push(txn, &i.to_string())))
            .await
            .unwrap();
    }
    // What a transport writes in one flush: the first message, then whatever is ready.
    let mut batch = vec![next(&mut bob_peer).await.unwrap()];
    while let Some(message) = bob_peer.try_next_outbound() {
        batch.push(message.to_vec());
    }
    assert_eq!(batch.len(), 5, "every queued update, none waited for");
    for message in &batch {
        assert!(bob.handle(message).is_empty());
    }
    let text = bob.doc().get_or_insert_text("t");
    assert_eq!(text.get_string(&bob.doc().transact()), "01234", "applied in the order sent");

    // Overflow detaches bob: what was still queued is not handed out.
    for i in 0..9 {
        alice_peer.receive(&alice.set("n", i)).await.unwrap();
    }
    assert!(bob_peer.is_detached());
    assert_eq!(bob_peer.try_next_outbound(), None);
    assert_eq!(tokio::time::timeout(SOON, bob_peer.next_outbound()).await.unwrap(), None);
}

#[tokio::test]
async fn the_greeting_is_handed_out_once() {
    let registry = registry(Arc::new(MemoryDocStore::new()), SyncConfig::default());
    let doc = registry.open(&key("greeting")).await.unwrap();
    let mut peer = doc.connect(PeerOptions::default());
    assert!(!peer.take_greeting().is_empty(), "at least the sync step 1");
    assert!(peer.take_greeting().is_empty(), "not kept for the life of the connection");
}
