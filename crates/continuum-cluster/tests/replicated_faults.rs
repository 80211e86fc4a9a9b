//! Faults on an in-process replicated cluster over real sockets: a document's primary leaves
//! and a survivor still holds every acknowledged update; a primary back from a restart serves
//! the updates appended while it was away; a peer speaking another wire version is refused with
//! the reason.

mod replica;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use continuum_cluster::replication::wire::{self, Hello, Welcome};
use continuum_cluster::replication::{Replicas, peers};
use continuum_core::placement::PlacementKey;
use continuum_core::{DocKey, SystemClock};
use futures_util::{SinkExt, StreamExt};
use replica::{Cluster, config, start_node};
use tokio_util::codec::Framed;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_documents_updates_survive_its_primary() {
    let mut cluster = Cluster::start(3, Replicas::Backups(1), Arc::new(SystemClock)).await;
    let view = cluster.nodes[0].node.view();
    // Documents whose primary is node n1, so that each survivor is the new primary of some
    // (the one that held no copy must take it from the other).
    let keys: Vec<DocKey> = (0..200)
        .map(|i| DocKey::parse("user:alice", &format!("draft-{i}")).unwrap())
        .filter(|key| view.primary(&PlacementKey::doc(key)) == Some("n1"))
        .take(8)
        .collect();
    let mut written = Vec::new();
    for (k, key) in keys.iter().enumerate() {
        for i in 0..6u8 {
            // Through a node that is not the primary (forwarded), and through the primary.
            let through = if i % 2 == 0 { 0 } else { 1 };
            let update = vec![k as u8, i, 7, 7];
            cluster.nodes[through].stores.docs.append(key, update.clone()).await.expect("acknowledged");
            written.push((key.clone(), update));
        }
    }
    let gone = cluster.nodes.remove(1);
    gone.stores.sessions.close().await.expect("leaves");
    cluster.converge(2).await;
    for survivor in &cluster.nodes {
        for (key, update) in &written {
            let stored = survivor.stores.docs.load(key).await.expect("loads");
            assert!(
                stored.updates.contains(update),
                "an acknowledged update of {key} was lost with its primary"
            );
        }
    }
    // The new owners take appends, and both hold them.
    for key in &keys {
        cluster.nodes[0].stores.docs.append(key, vec![99; 8]).await.expect("appends after the loss");
        for survivor in &cluster.nodes {
            assert!(survivor.stores.docs.load(key).await.unwrap().updates.contains(&vec![99; 8]));
        }
    }
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_of_another_wire_version_is_refused_with_the_reason() {
    let cluster = Cluster::start(1, Replicas::Backups(1), Arc::new(SystemClock)).await;
    let stream = tokio::net::TcpStream::connect(cluster.addrs[0]).await.expect("connects");
    let mut framed = Framed::new(stream, peers::codec());
    let hello = Hello {
        magic: wire::MAGIC.into(),
        version: wire::WIRE_VERSION + 1,
        cluster: "continuum".into(),
        node: "future".into(),
    };
    framed.send(wire::encode_frame(&hello, &[])).await.expect("sends");
    let frame = tokio::time::timeout(Duration::from_secs(5), framed.next())
        .await
        .expect("answers")
        .expect("a frame")
        .expect("reads");
    let (welcome, _): (Welcome, Bytes) = wire::decode_frame(frame.freeze()).expect("decodes");
    match welcome {
        Welcome::Refused { reason } => {
            let theirs = format!("wire version {}", wire::WIRE_VERSION + 1);
            assert!(reason.contains(&theirs), "{reason}")
        }
        Welcome::Accepted { .. } => panic!("a peer of another wire version was accepted"),
    }
    assert!(framed.next().await.is_none_or(|frame| frame.is_err()), "the connection closes after a refusal");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_backup_takes_the_whole_document_before_its_first_copy() {
    // Five nodes, so that two can fail one after the other and a quorum remains.
    let mut cluster = Cluster::start(5, Replicas::Backups(1), Arc::new(SystemClock)).await;
    let key = DocKey::parse("user:alice", "draft").unwrap();
    let index_of =
        |cluster: &Cluster, id: &str| cluster.nodes.iter().position(|node| node.node.id() == id).unwrap();
    let mut written = Vec::new();
    for i in 0..10u8 {
        let update = vec![i, 1, 2, 3];
        cluster.nodes[0].stores.docs.append(&key, update.clone()).await.expect("acknowledged");
        written.push(update);
    }
    // The primary leaves: its backup becomes the primary, and a node without any copy the backup.
    let first = cluster.nodes[0].node.view().primary(&PlacementKey::doc(&key)).unwrap().to_owned();
    let gone = cluster.nodes.remove(index_of(&cluster, &first));
    gone.stores.sessions.close().await.expect("leaves");
    cluster.converge(4).await;
    let update = vec![42, 1, 2, 3];
    cluster.nodes[0].stores.docs.append(&key, update.clone()).await.expect("appends after the first loss");
    written.push(update);
    // The new primary leaves too: the new backup, now primary, must hold everything.
    let second = cluster.nodes[0].node.view().primary(&PlacementKey::doc(&key)).unwrap().to_owned();
    let gone = cluster.nodes.remove(index_of(&cluster, &second));
    gone.stores.sessions.close().await.expect("leaves");
    cluster.converge(3).await;
    let stored = cluster.nodes[0].stores.docs.load(&key).await.expect("loads");
    for update in &written {
        assert!(
            stored.updates.contains(update),
            "update {update:?} was lost after two successive primaries left"
        );
    }
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_back_from_a_restart_serves_the_updates_appended_while_it_was_away() {
    let clock = Arc::new(SystemClock);
    let mut cluster = Cluster::start(3, Replicas::Backups(1), clock.clone()).await;
    let view = cluster.nodes[0].node.view();
    let keys: Vec<DocKey> = (0..200)
        .map(|i| DocKey::parse("user:alice", &format!("notes-{i}")).unwrap())
        .filter(|key| view.primary(&PlacementKey::doc(key)) == Some("n0"))
        .take(20)
        .collect();
    assert!(keys.len() >= 10, "the test needs documents whose primary is n0");
    // One Yjs document's two edits: the first before n0 leaves, the second while it is away.
    let (before, away) = two_edits();
    for key in &keys {
        cluster.nodes[0].stores.docs.append(key, before.clone()).await.expect("appended");
    }
    let gone = cluster.nodes.remove(0);
    gone.stores.sessions.close().await.expect("leaves");
    cluster.converge(2).await;
    for key in &keys {
        cluster.nodes[0].stores.docs.append(key, away.clone()).await.expect("appended while n0 is away");
    }

    // n0 returns on its own data, primary of these documents again: at once, before any
    // transfer can have reached it, what it serves has what was appended while it was away.
    let back = start_node(config(0, &cluster.addrs, Replicas::Backups(1)), cluster.dir.path(), clock).await;
    let deadline = tokio::time::Instant::now() + replica::CONVERGE;
    while back.node.view().members().len() < 3 {
        assert!(tokio::time::Instant::now() < deadline, "n0 did not see the others again");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut missing = 0;
    for key in &keys {
        let doc = back.stores.docs.load(key).await.expect("loads");
        let keys = map_keys(&doc);
        assert!(keys.contains(&"before".to_owned()), "its own update: {keys:?}");
        missing += usize::from(!keys.contains(&"away".to_owned()));
    }
    assert_eq!(
        missing,
        0,
        "the returning primary served {missing} of {} documents without the updates appended while it was away",
        keys.len()
    );
    cluster.nodes.insert(0, back);
    cluster.stop().await;
}

/// Two edits of one Yjs document, as updates: the map `m` gets `before`, then `away`.
fn two_edits() -> (Vec<u8>, Vec<u8>) {
    use yrs::{Doc, Map, ReadTxn, Transact, WriteTxn};
    let doc = Doc::new();
    let edit = |key: &str| {
        let state = doc.transact().state_vector();
        let mut txn = doc.transact_mut();
        let map = txn.get_or_insert_map("m");
        map.insert(&mut txn, key, 1);
        drop(txn);
        doc.transact().encode_state_as_update_v1(&state)
    };
    (edit("before"), edit("away"))
}

/// The keys of the map `m` in a stored document.
fn map_keys(stored: &continuum_store::StoredDoc) -> Vec<String> {
    use yrs::updates::decoder::Decode;
    use yrs::{Doc, Map, Transact, Update, WriteTxn};
    let doc = Doc::new();
    let mut txn = doc.transact_mut();
    for piece in stored.snapshot.iter().chain(&stored.updates) {
        txn.apply_update(Update::decode_v1(piece).expect("a Yjs update")).expect("applies");
    }
    let map = txn.get_or_insert_map("m");
    map.keys(&txn).map(str::to_owned).collect()
}
