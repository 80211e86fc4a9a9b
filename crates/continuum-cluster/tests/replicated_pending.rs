//! A primary killed in the middle of copying a write: the new version reached one backup and
//! not the other. A read that answers the new version must first make sure no owner can still
//! answer the old one (the fault suite saw version 3 read on one node, then 2 on another).

mod replica;

use std::sync::Arc;

use continuum_cluster::replication::view::Member;
use continuum_cluster::replication::wire::{Reply, Request};
use continuum_cluster::replication::{Peers, Replicas, ReplicationMetrics};
use continuum_core::SystemClock;
use replica::{Cluster, session_with_primary};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_of_a_copy_its_dead_primary_never_confirmed_first_gives_it_to_every_owner() {
    let cluster = Cluster::start(3, Replicas::All, Arc::new(SystemClock)).await;
    // Past the start's catching up (which reads through every member and would hide what this
    // test looks for): every node's transfer finished and gossiped.
    let deadline = tokio::time::Instant::now() + replica::CONVERGE;
    while !cluster.nodes.iter().all(|node| node.node.transfers_settled()) {
        assert!(tokio::time::Instant::now() < deadline, "the transfers did not settle");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let (n1, n2) = (&cluster.nodes[1], &cluster.nodes[2]);
    let first = session_with_primary(&cluster.nodes[0], "n0");
    cluster.nodes[0].stores.sessions.insert(Arc::new(first.clone())).await.expect("inserted");
    let mut second = first.clone();
    second.version += 1;
    second.attributes.insert("cart".into(), 3.into());

    // "n0" copies the second version to n1 only, then dies: no apply, no answer, no
    // confirmation; n2 still holds the first.
    let tasks = TaskTracker::new();
    let cancel = CancellationToken::new();
    let metrics = Arc::new(ReplicationMetrics::default());
    let as_n0 = Peers::new("n0".into(), "continuum".into(), tasks.clone(), cancel.clone(), metrics);
    let to_n1 = Member { id: "n1".into(), peer_addr: cluster.addrs[1] };
    let copy = Request::Put { view: n1.node.view().fingerprint(), record: second.clone() };
    let (answer, _) = as_n0.call(&to_n1, copy, &[]).await.expect("answered");
    assert!(matches!(answer, Ok(Reply::Done)), "n1 takes the copy from the key's primary: {answer:?}");
    let held = n2.node.held_sessions().get(&first.sid).await.unwrap().expect("held");
    assert_eq!(held.version, first.version, "the copy never reached n2");

    let read = n1.stores.sessions.get(&first.sid).await.expect("reads").expect("the session");
    assert_eq!(read.version, second.version, "n1 answers the copy it holds");
    let after = n2.stores.sessions.get(&first.sid).await.expect("reads").expect("the session");
    assert_eq!(after.version, second.version, "n2 answered an older version than n1 had answered");
    let held = n2.node.held_sessions().get(&first.sid).await.unwrap().expect("held");
    assert_eq!(held.attributes.get("cart"), Some(&3.into()), "n2's own copy was completed");
    cancel.cancel();
    tasks.close();
    cluster.stop().await;
}
