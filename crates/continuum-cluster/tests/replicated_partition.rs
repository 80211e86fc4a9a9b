//! A partition of one node, on an in-process replicated cluster over real sockets: gossip and
//! replication to and from the node are dropped (`fault::Cut`, a firewall the test controls).
//! The documented behaviour holds — the cut-off node, without a majority, acknowledges nothing,
//! while the majority keeps serving — and after the heal no acknowledged write is lost and no
//! acknowledged revocation is undone, not even in the moment before the others' transfers
//! reach the node that comes back with stale copies.

mod replica;

use std::sync::Arc;
use std::time::Duration;

use continuum_cluster::replication::fault::Cut;
use continuum_cluster::replication::{Replicas, ReplicatedNode};
use continuum_core::placement::PlacementKey;
use continuum_core::{NewSession, Principal, SystemClock, Token};
use continuum_store::Sessions;
use replica::{CONVERGE, config, free_addr, start_node};

/// Waits until each node sees the number of members `sizes` gives for it.
async fn views(nodes: &[ReplicatedNode], sizes: &[usize]) {
    let deadline = tokio::time::Instant::now() + CONVERGE;
    loop {
        let seen: Vec<usize> = nodes.iter().map(|node| node.node.view().members().len()).collect();
        if seen == sizes {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "views {seen:?}, expected {sizes:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_off_node_acknowledges_nothing_and_undoes_nothing_after_the_heal() {
    let clock = Arc::new(SystemClock);
    let replicas = Replicas::Backups(1);
    let dir = tempfile::tempdir().unwrap();
    let addrs: Vec<_> = (0..5).map(|_| free_addr()).collect();
    let cuts: Vec<Arc<Cut>> = (0..5).map(|_| Cut::new()).collect();
    let mut nodes = Vec::new();
    for (i, cut) in cuts.iter().enumerate() {
        let mut node_config = config(i, &addrs, replicas);
        node_config.cut = Some(Arc::clone(cut));
        node_config.settle_timeout = Duration::from_millis(800);
        nodes.push(start_node(node_config, dir.path(), clock.clone()).await);
    }
    views(&nodes, &[5; 5]).await;
    let through = |i: usize| Sessions::new(Arc::clone(&nodes[i].stores.sessions), clock.clone());
    let dora = Principal::parse("dora").unwrap();
    let ask = || NewSession { principal: Some(dora.clone()), ..NewSession::default() };
    let mut before: Vec<Token> = Vec::new();
    for _ in 0..120 {
        before.push(through(1).create(ask()).await.expect("acknowledged").1);
    }
    // n0 holds a copy of each session it owns under the whole view; those are the ones it
    // could answer stale after the heal.
    let view = nodes[0].node.view();
    let n0_owns = |token: &Token| view.owners(&PlacementKey::session(&token.sid), replicas).contains(&"n0");

    cuts[0].sever(addrs[1..].iter().copied());
    for cut in &cuts[1..] {
        cut.sever([addrs[0]]);
    }
    views(&nodes, &[1, 4, 4, 4, 4]).await;

    // The cut-off side acknowledges nothing: no quorum, so no write and no read.
    assert!(through(0).create(ask()).await.is_err(), "a node without a majority created a session");
    assert!(through(0).revoke(&before[0].sid).await.is_err(), "a node without a majority revoked");
    assert!(through(0).validate(&before[1]).await.is_err(), "a node without a majority answered");
    // The majority keeps serving: it revokes (among them every session n0 holds a copy of) and
    // creates.
    let (mut revoked, mut kept) = (Vec::new(), Vec::new());
    for (i, token) in before.into_iter().enumerate() {
        match n0_owns(&token) || i % 4 == 0 {
            true => revoked.push(token),
            false => kept.push(token),
        }
    }
    for token in &revoked {
        assert!(through(2).revoke(&token.sid).await.expect("the majority revokes"));
    }
    let mut during = Vec::new();
    for _ in 0..30 {
        during.push(through(3).create(ask()).await.expect("the majority creates").1);
    }

    for cut in &cuts {
        cut.heal();
    }
    views(&nodes, &[5; 5]).await;
    // At once, before the others' transfers can have reached it: n0's stale copies must not
    // answer for the revoked sessions.
    for token in &revoked {
        assert!(through(0).validate(token).await.is_err(), "a revocation was undone by the heal");
    }
    for node in &nodes {
        let deadline = tokio::time::Instant::now() + CONVERGE;
        while !node.node.transfers_settled() {
            assert!(tokio::time::Instant::now() < deadline, "the transfers after the heal did not finish");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    for i in 0..5 {
        for token in kept.iter().chain(&during) {
            through(i).validate(token).await.expect("an acknowledged session was lost");
        }
        for token in &revoked {
            assert!(through(i).validate(token).await.is_err(), "a revocation came back on n{i}");
        }
    }
    for node in &nodes {
        let _ = node.stores.sessions.close().await;
    }
}
