//! A compare-and-swap retried inside the cluster after its first attempt took effect: the
//! primary already holds the record (the first attempt's answer was lost), so the retry must be
//! finished, not answered as a conflict — while the same request not marked as a retry, like a
//! second client sending an identical write, still conflicts.

mod replica;

use std::sync::Arc;

use continuum_cluster::replication::view::Member;
use continuum_cluster::replication::wire::{Refusal, Reply, Request};
use continuum_cluster::replication::{Peers, Replicas, ReplicationMetrics};
use continuum_core::SystemClock;
use continuum_core::placement::PlacementKey;
use replica::{Cluster, session_with_primary};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_replace_that_already_took_effect_is_finished_not_refused() {
    let cluster = Cluster::start(3, Replicas::Backups(1), Arc::new(SystemClock)).await;
    let primary = &cluster.nodes[0];
    let first = session_with_primary(primary, "n0");
    primary.stores.sessions.insert(Arc::new(first.clone())).await.expect("inserted");
    let mut second = first.clone();
    second.version += 1;
    second.attributes.insert("cart".into(), 3.into());
    // The first attempt took effect: the primary applied it (and its backup has it), but its
    // answer never reached the node that forwarded it.
    primary.stores.sessions.replace(first.version, Arc::new(second.clone())).await.expect("applied");

    let tasks = TaskTracker::new();
    let cancel = CancellationToken::new();
    let peers = Peers::new(
        "n9".into(),
        "continuum".into(),
        tasks.clone(),
        cancel.clone(),
        Arc::new(ReplicationMetrics::default()),
    );
    let to_primary = Member { id: "n0".into(), peer_addr: cluster.addrs[0] };
    let replace = |retry| Request::Replace { expected: first.version, record: second.clone(), retry };

    let (answer, _) = peers.call(&to_primary, replace(false), &[]).await.expect("answered");
    assert!(
        matches!(answer, Err(Refusal::VersionConflict { expected: 1, actual: 2 })),
        "the same write not marked as a retry conflicts: {answer:?}"
    );
    let (answer, _) = peers.call(&to_primary, replace(true), &[]).await.expect("answered");
    assert!(matches!(answer, Ok(Reply::Done)), "a retry finding its own write finishes it: {answer:?}");

    // A retry is not a way around the compare-and-swap: another write of that version conflicts.
    let mut other = second.clone();
    other.attributes.insert("cart".into(), 4.into());
    let request = Request::Replace { expected: first.version, record: other, retry: true };
    let (answer, _) = peers.call(&to_primary, request, &[]).await.expect("answered");
    assert!(matches!(answer, Err(Refusal::VersionConflict { .. })), "{answer:?}");
    let owners: Vec<String> = primary
        .node
        .view()
        .owners(&PlacementKey::session(&first.sid), Replicas::Backups(1))
        .into_iter()
        .map(str::to_owned)
        .collect();
    for node in cluster.nodes.iter().filter(|node| owners.iter().any(|owner| owner == node.node.id())) {
        let held = node.node.held_sessions().get(&first.sid).await.unwrap().expect("held by its owners");
        assert_eq!(held.attributes.get("cart"), Some(&3.into()));
    }
    cancel.cancel();
    tasks.close();
    cluster.stop().await;
}
