//! More than `k` owners lost at once, on an in-process replicated cluster over real sockets: the
//! survivors count exactly the keys nobody holds any more and name the nodes that held them,
//! and the count goes back to zero when one of those nodes returns with its data.

mod replica;

use std::sync::Arc;
use std::time::Duration;

use continuum_cluster::replication::Replicas;
use continuum_core::placement::PlacementKey;
use continuum_core::{DocKey, NewSession, Principal, SystemClock};
use continuum_store::{DataLoss, Sessions};
use replica::{CONVERGE, Cluster, config, start_node};

/// Waits until `check` holds, up to [`CONVERGE`]; on a timeout, says `what` and what `state`
/// shows.
async fn eventually(what: &str, mut check: impl FnMut() -> bool, state: impl Fn() -> String) {
    let deadline = tokio::time::Instant::now() + CONVERGE;
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "{what}: {}", state());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_owners_lost_at_once_are_counted_and_named_by_the_survivors() {
    let clock = Arc::new(SystemClock);
    let replicas = Replicas::Backups(1);
    let mut cluster = Cluster::start(5, replicas, clock.clone()).await;
    // Documents first: a count that includes every session then includes every document.
    let docs: Vec<DocKey> = (0..40).map(|i| DocKey::parse("user:carol", &format!("d{i}")).unwrap()).collect();
    for doc in &docs {
        cluster.nodes[2].stores.docs.append(doc, vec![1, 2, 3]).await.expect("appended");
    }
    let sessions = Sessions::new(Arc::clone(&cluster.nodes[0].stores.sessions), clock.clone());
    let carol = Principal::parse("carol").unwrap();
    let mut sids = Vec::new();
    for _ in 0..200 {
        let ask = NewSession { principal: Some(carol.clone()), ..NewSession::default() };
        sids.push(sessions.create(ask).await.expect("acknowledged").0.sid);
    }
    // What n1 and n2 alone hold: the keys whose two owners are exactly those.
    let view = cluster.nodes[0].node.view();
    let both = |key: PlacementKey| {
        let owners = view.owners(&key, replicas);
        owners.contains(&"n1") && owners.contains(&"n2")
    };
    let expected_sessions = sids.iter().filter(|sid| both(PlacementKey::session(sid))).count() as u64;
    let expected_docs = docs.iter().filter(|doc| both(PlacementKey::doc(doc))).count() as u64;
    assert!(expected_sessions > 5, "the test needs keys owned by exactly n1 and n2");
    // Every node has published what it holds, and every node has heard all five.
    eventually(
        "the holdings were not published",
        || {
            let published: u64 = cluster
                .nodes
                .iter()
                .map(|node| {
                    node.node.published_holdings().0.values().map(|counts| counts.sessions).sum::<u64>()
                })
                .sum();
            published == sids.len() as u64
                && cluster.nodes.iter().all(|node| node.metrics.cluster_sessions.get() == sids.len() as i64)
        },
        || {
            let of = |node: &continuum_cluster::replication::ReplicatedNode| {
                (
                    node.node.published_holdings().0.values().map(|c| c.sessions).sum::<u64>(),
                    node.metrics.cluster_sessions.get(),
                    node.node.view().members().len(),
                )
            };
            format!(
                "(published, heard, members) per node: {:?}",
                cluster.nodes.iter().map(of).collect::<Vec<_>>()
            )
        },
    )
    .await;
    for node in &cluster.nodes {
        assert_eq!(*node.node.data_loss().borrow(), DataLoss::default(), "nothing is missing yet");
    }

    // n1 and n2 fail together, before any transfer could copy their keys elsewhere.
    let n2 = cluster.nodes.remove(2);
    let n1 = cluster.nodes.remove(1);
    let (one, two) = tokio::join!(n1.stores.sessions.close(), n2.stores.sessions.close());
    one.and(two).expect("both leave");
    cluster.converge(3).await;
    let expected = DataLoss {
        sessions: expected_sessions,
        documents: expected_docs,
        nodes: vec!["n1".into(), "n2".into()],
    };
    for survivor in &cluster.nodes {
        eventually(
            "a survivor did not report the loss",
            || *survivor.node.data_loss().borrow() == expected,
            || format!("{:?}, expected {expected:?}", survivor.node.data_loss().borrow()),
        )
        .await;
        assert_eq!(survivor.metrics.unavailable_sessions.get(), expected_sessions as i64);
        assert_eq!(survivor.metrics.unavailable_documents.get(), expected_docs as i64);
        assert!(survivor.metrics.losses.get() >= 1, "the loss was counted");
    }

    // n1 comes back with its data: nothing is missing any more.
    let returning = start_node(config(1, &cluster.addrs, replicas), cluster.dir.path(), clock.clone()).await;
    cluster.nodes.push(returning);
    cluster.converge(4).await;
    for survivor in &cluster.nodes {
        eventually(
            "the loss was not withdrawn",
            || survivor.node.data_loss().borrow().is_empty(),
            || format!("{:?}", survivor.node.data_loss().borrow()),
        )
        .await;
    }
    cluster.stop().await;
}
