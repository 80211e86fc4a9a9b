//! Awareness costs O(changes): changes are coalesced per tick into one message per peer, and a
//! leaving peer sends removals only for clients that had a state. Counted with the registry's
//! metrics, so the assertions are on messages, not on timing.

use std::sync::Arc;
use std::time::Duration;

use continuum_store::MemoryDocStore;
use continuum_sync::{DocRegistry, Peer, PeerOptions, SyncConfig};
use serde_json::json;

use crate::common::*;

const TICK: Duration = Duration::from_millis(20);

/// Long enough for a tick to have flushed, with room for a loaded machine.
const SETTLE: Duration = Duration::from_millis(400);

fn fast_ticks() -> DocRegistry {
    registry(Arc::new(MemoryDocStore::new()), SyncConfig { awareness_tick: TICK, ..SyncConfig::default() })
}

/// `count` peers whose clients (ids from `first`) each announce a state.
async fn announced(doc: &Arc<continuum_sync::LiveDoc>, first: u64, count: u64) -> Vec<Peer> {
    let mut peers = Vec::new();
    for id in first..first + count {
        let mut client = Client::new(id);
        let mut peer = doc.connect(PeerOptions::default());
        peer.receive(&client.announce(json!({"device": id}))).await.unwrap();
        peers.push(peer);
    }
    peers
}

#[tokio::test]
async fn a_thousand_clients_joining_and_leaving_cost_o_n_messages() {
    const N: u64 = 1000;
    let registry = fast_ticks();
    let doc = registry.open(&key("crowd")).await.unwrap();
    let mut observer = Client::new(1);
    let mut observer_peer = connect(&doc, &mut observer, PeerOptions::default()).await;

    let peers = announced(&doc, 100, N).await;
    tokio::time::sleep(SETTLE).await;
    let joined = registry.metrics().awareness_messages_out();
    // Relayed one by one, N joins would send about N²/2 = 500,000 messages. Coalesced, each peer
    // gets one message per tick, cut into messages of at most 1 KiB of states: N states of about
    // 30 bytes are about 30 of them, plus one per further tick.
    assert!(joined <= 50 * (N + 1), "{joined} awareness messages for {N} joins");
    let flushes = registry.metrics().awareness_flushes();
    let received = drain(&mut observer_peer, &mut observer).await as u64;
    assert!((flushes..=joined).contains(&received), "{received} messages for {flushes} flushes");
    assert!(observer.awareness.state::<serde_json::Value>(yrs::ClientID::new(100 + N - 1)).is_some());

    // All of them leave at once: the observer gets their removals in a tick or two, N removals
    // of about 20 bytes in about 20 messages per tick.
    drop(peers);
    tokio::time::sleep(SETTLE).await;
    let left = registry.metrics().awareness_messages_out() - joined;
    assert!((1..=60).contains(&left), "{left} awareness messages for {N} leaving (y-sweet: ~2N²)");
    drain(&mut observer_peer, &mut observer).await;
    let remaining = (100..100 + N)
        .filter(|id| observer.awareness.state::<serde_json::Value>(yrs::ClientID::new(*id)).is_some())
        .count();
    assert_eq!(remaining, 0, "every removal arrived");
}

#[tokio::test]
async fn peers_that_never_set_a_state_leave_without_a_message() {
    let registry = fast_ticks();
    let doc = registry.open(&key("silent")).await.unwrap();
    let stay = announced(&doc, 1, 10).await;
    tokio::time::sleep(SETTLE).await;
    let before = registry.metrics().awareness_messages_out();
    assert!(before > 0);

    let silent: Vec<Peer> = (0..200).map(|_| doc.connect(PeerOptions::default())).collect();
    drop(silent);
    tokio::time::sleep(SETTLE).await;
    assert_eq!(registry.metrics().awareness_messages_out(), before, "nothing to remove, nothing sent");
    assert_eq!(doc.peer_count(), stay.len());
}

#[tokio::test]
async fn one_message_per_peer_per_tick_and_none_back_to_its_author() {
    let registry = registry(
        Arc::new(MemoryDocStore::new()),
        SyncConfig { awareness_tick: Duration::from_millis(300), ..SyncConfig::default() },
    );
    let doc = registry.open(&key("ticks")).await.unwrap();
    let (mut alice, mut bob) = (Client::new(1), Client::new(2));
    let mut alice_peer = connect(&doc, &mut alice, PeerOptions::default()).await;
    let mut bob_peer = connect(&doc, &mut bob, PeerOptions::default()).await;
    // Alice moves through five steps within one tick: bob gets one message with the last.
    for step in 0..5 {
        alice_peer.receive(&alice.announce(json!({"step": step}))).await.unwrap();
    }
    bob.handle(&next(&mut bob_peer).await.unwrap());
    let state: serde_json::Value = bob.awareness.state(yrs::ClientID::new(1)).unwrap();
    assert_eq!(state, json!({"step": 4}));
    assert_eq!(drain(&mut bob_peer, &mut bob).await, 0, "one message for five changes");
    assert_eq!(drain(&mut alice_peer, &mut alice).await, 0, "alice knows her own state");
    assert_eq!(registry.metrics().awareness_messages_out(), 1);
}

#[tokio::test]
async fn the_snapshot_counts_queues_deliveries_and_peers_detached_for_lag() {
    let config = SyncConfig { outbound_capacity: 8, ..SyncConfig::default() };
    let registry = registry(Arc::new(MemoryDocStore::new()), config);
    let doc = registry.open(&key("gauges")).await.unwrap();
    let mut writer = Client::new(1);
    let mut writer_peer = connect(&doc, &mut writer, PeerOptions::default()).await;
    let (mut slow, mut idle) = (Client::new(2), Client::new(3));
    let slow_peer = connect(&doc, &mut slow, PeerOptions::default()).await;
    let mut idle_peer = connect(&doc, &mut idle, PeerOptions::default()).await;

    for i in 0..5 {
        writer_peer.receive(&writer.set("n", i)).await.unwrap();
    }
    doc.flush().await.unwrap();
    let snapshot = registry.snapshot();
    assert_eq!((snapshot.live_docs, snapshot.peers), (1, 3));
    assert_eq!((snapshot.outbound_queued, snapshot.outbound_queued_max), (10, 5));
    assert_eq!(snapshot.updates_delivered, 10);
    assert_eq!(snapshot.updates_persisted, 5);

    drain(&mut idle_peer, &mut idle).await;
    for i in 5..10 {
        writer_peer.receive(&writer.set("n", i)).await.unwrap();
    }
    let snapshot = registry.snapshot();
    assert_eq!(snapshot.detached_for_lag, 1, "the slow peer's queue of 8 overflowed");
    assert!(slow_peer.is_detached());
    assert_eq!((snapshot.peers, snapshot.outbound_queued), (2, 5));
}
