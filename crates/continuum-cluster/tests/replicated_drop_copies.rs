//! The `drop-copies` fault mode (feature `fault-modes`) on an in-process cluster over real
//! sockets: a backup in it acknowledges every tenth copy its primary sends without storing
//! it, while the primary stores and acknowledges every write.

#![cfg(feature = "fault-modes")]

mod replica;

use std::sync::Arc;

use continuum_cluster::replication::{Replicas, ReplicatedNode};
use continuum_core::placement::PlacementKey;
use continuum_core::{DocKey, SessionRecord, SystemClock};
use replica::{Cluster, config, free_addr, start_node};

fn session_with_primary(node: &ReplicatedNode, primary: &str) -> Arc<SessionRecord> {
    Arc::new(replica::session_with_primary(node, primary))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_dropping_copies_lacks_every_tenth_write_its_primary_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let addrs = vec![free_addr(), free_addr()];
    let clock = Arc::new(SystemClock);
    let healthy = start_node(config(0, &addrs, Replicas::Backups(1)), dir.path(), clock.clone()).await;
    let mut broken = config(1, &addrs, Replicas::Backups(1));
    broken.drop_copies = true;
    let broken = start_node(broken, dir.path(), clock).await;
    let cluster = Cluster { nodes: vec![healthy, broken], addrs, dir };
    cluster.converge(2).await;
    let (primary, backup) = (&cluster.nodes[0], &cluster.nodes[1]);

    // Twenty sessions whose primary is n0, so n1 takes each as a backup: copies 1 to 20.
    let mut written = Vec::new();
    for _ in 0..20 {
        let record = session_with_primary(primary, "n0");
        primary.stores.sessions.insert(Arc::clone(&record)).await.expect("acknowledged");
        written.push(record);
    }
    let mut missing = Vec::new();
    for (i, record) in written.iter().enumerate() {
        assert!(primary.node.held_sessions().get(&record.sid).await.unwrap().is_some(), "on the primary");
        if backup.node.held_sessions().get(&record.sid).await.unwrap().is_none() {
            missing.push(i + 1);
        }
    }
    assert_eq!(missing, [10, 20], "exactly the 10th and the 20th copies are missing on the backup");

    // Ten appends to a document whose primary is n0: copies 21 to 30, the last one dropped.
    let view = primary.node.view();
    let key = (0..)
        .map(|i| DocKey::parse("user:alice", &format!("draft-{i}")).unwrap())
        .find(|key| view.primary(&PlacementKey::doc(key)) == Some("n0"))
        .unwrap();
    for i in 0..10u8 {
        primary.stores.docs.append(&key, vec![i, 1, 2, 3]).await.expect("acknowledged");
    }
    let on_primary = primary.node.held_docs().load(&key).await.unwrap().updates;
    let on_backup = backup.node.held_docs().load(&key).await.unwrap().updates;
    assert_eq!(on_primary.len(), 10);
    assert_eq!(on_backup, on_primary[..9], "the backup lacks the tenth append only");
    cluster.stop().await;
}
