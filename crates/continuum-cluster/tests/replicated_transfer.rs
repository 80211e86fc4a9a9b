//! Ownership changes on an in-process replicated cluster over real sockets: after a node leaves
//! or joins, the keys that moved are handed to their new owners in the background, so keys
//! nobody touches survive owners failing one after the other, and a joining node holds exactly
//! its share.

mod replica;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use continuum_cluster::replication::{Replicas, ReplicatedNode};
use continuum_core::placement::PlacementKey;
use continuum_core::{DocKey, NewSession, Principal, SessionId, Status, SystemClock, Token};
use continuum_store::Sessions;
use replica::{CONVERGE, Cluster, config, free_addr, start_node};

/// Waits until every node has handed over what moved with the last membership change.
async fn transfers_settle(nodes: &[ReplicatedNode]) {
    let deadline = tokio::time::Instant::now() + CONVERGE;
    while !nodes.iter().all(|node| node.node.transfers_settled()) {
        assert!(tokio::time::Instant::now() < deadline, "the transfers did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn index_of(cluster: &Cluster, id: &str) -> usize {
    cluster.nodes.iter().position(|node| node.node.id() == id).expect("a running node")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untouched_sessions_survive_two_owners_failing_one_after_the_other() {
    // Five nodes and one backup: two may fail one after the other and a quorum remains. Nothing
    // touches the sessions between the failures, so only the background transfer can give the
    // keys of the first failed node a second copy before the next one fails.
    let clock = Arc::new(SystemClock);
    let mut cluster = Cluster::start(5, Replicas::Backups(1), clock.clone()).await;
    transfers_settle(&cluster.nodes).await;
    let sessions = Sessions::new(Arc::clone(&cluster.nodes[0].stores.sessions), clock.clone());
    let alice = Principal::parse("alice").unwrap();
    let mut live: Vec<Token> = Vec::new();
    let mut revoked: Vec<SessionId> = Vec::new();
    for i in 0..240 {
        let ask = NewSession { principal: Some(alice.clone()), ..NewSession::default() };
        let (record, token) = sessions.create(ask).await.expect("acknowledged");
        if i % 6 == 0 {
            assert!(sessions.revoke(&record.sid).await.expect("revoked"));
            revoked.push(record.sid);
        } else {
            live.push(token);
        }
    }
    // Principals signed out everywhere (their epoch ends every sealed token issued before).
    let signed_out: Vec<Principal> =
        (0..60).map(|i| Principal::parse(&format!("user-{i}")).unwrap()).collect();
    for principal in &signed_out {
        let store = &cluster.nodes[0].stores.sessions;
        assert_eq!(store.bump_principal_epoch(principal).await.expect("bumped"), 1);
    }
    // Documents with a named version each: the version must move with its document.
    let docs: Vec<DocKey> =
        (0..60).map(|i| DocKey::parse("user:alice", &format!("notes-{i}")).unwrap()).collect();
    let at = continuum_core::Timestamp::from_millis(1_900_000_000_000);
    for key in &docs {
        let store = &cluster.nodes[0].stores.docs;
        store.append(key, vec![1, 2, 3]).await.expect("appended");
        store.save_version(key, "first draft".into(), at, vec![4, 5, 6]).await.expect("saved");
    }
    // The two nodes to fail: n1, then n2. Sessions owned by both (about one in ten) have no
    // copy elsewhere until the transfer after n1's failure makes one.
    let both = {
        let view = cluster.nodes[0].node.view();
        let owned_by_both = |sid: &SessionId| {
            let owners = view.owners(&PlacementKey::session(sid), Replicas::Backups(1));
            owners.contains(&"n1") && owners.contains(&"n2")
        };
        live.iter().filter(|token| owned_by_both(&token.sid)).count()
            + revoked.iter().filter(|sid| owned_by_both(sid)).count()
    };
    assert!(both > 5, "the test needs sessions owned by exactly the two failing nodes ({both})");

    for id in ["n1", "n2"] {
        let gone = cluster.nodes.remove(index_of(&cluster, id));
        gone.stores.sessions.close().await.expect("leaves");
        cluster.converge(cluster.nodes.len()).await;
        transfers_settle(&cluster.nodes).await;
    }

    let survivor = Sessions::new(Arc::clone(&cluster.nodes[1].stores.sessions), clock.clone());
    let mut lost = 0;
    for token in &live {
        if survivor.validate(token).await.is_err() {
            lost += 1;
        }
    }
    assert_eq!(lost, 0, "{lost} of {} acknowledged sessions were lost ({both} owned by both)", live.len());
    for sid in &revoked {
        let record = survivor.get(sid).await.expect("the tombstone moved with its session");
        assert_eq!(record.status, Status::Revoked, "a revoked session came back");
    }
    let store = &cluster.nodes[2].stores.sessions;
    for principal in &signed_out {
        let epoch = store.principal_epoch(principal).await.expect("an epoch");
        assert_eq!(epoch, 1, "{principal}'s sign-out everywhere was undone by two failures");
    }
    let docs_store = &cluster.nodes[0].stores.docs;
    let mut versions_lost = 0;
    for key in &docs {
        let versions = docs_store.versions(key).await.expect("versions");
        match versions.iter().find(|meta| meta.name == "first draft") {
            Some(meta) => {
                let (_, state) = docs_store.version(key, meta.id).await.unwrap().expect("its state");
                assert_eq!(state, [4, 5, 6]);
            }
            None => versions_lost += 1,
        }
    }
    assert_eq!(versions_lost, 0, "named versions lost with two owners failing one after the other");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joining_node_takes_exactly_its_share_while_writes_go_on() {
    let clock = Arc::new(SystemClock);
    let replicas = Replicas::Backups(1);
    // Four addresses; the fourth node joins later. Quorum is counted against the configured
    // peers, so the first three are configured with the first three only.
    let mut cluster = Cluster::start(3, replicas, clock.clone()).await;
    transfers_settle(&cluster.nodes).await;
    let sessions = Sessions::new(Arc::clone(&cluster.nodes[0].stores.sessions), clock.clone());
    let bob = Principal::parse("bob").unwrap();
    let mut tokens = Vec::new();
    for _ in 0..200 {
        let ask = NewSession { principal: Some(bob.clone()), ..NewSession::default() };
        tokens.push(sessions.create(ask).await.expect("acknowledged").1);
    }
    let docs: Vec<DocKey> =
        (0..8).map(|i| DocKey::parse("user:bob", &format!("draft-{i}")).unwrap()).collect();
    for (i, doc) in docs.iter().enumerate() {
        cluster.nodes[1].stores.docs.append(doc, vec![i as u8, 2, 3]).await.expect("appended");
    }

    // Writers keep creating sessions through another node while the fourth joins.
    let writer_store = Arc::clone(&cluster.nodes[1].stores.sessions);
    let writer_clock = clock.clone();
    let writer_principal = bob.clone();
    let writing = tokio::spawn(async move {
        let sessions = Sessions::new(writer_store, writer_clock);
        let mut written = Vec::new();
        for _ in 0..60 {
            let ask = NewSession { principal: Some(writer_principal.clone()), ..NewSession::default() };
            written.push(sessions.create(ask).await.expect("a write during the join failed").1);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        written
    });
    let addr = free_addr();
    let mut addrs = cluster.addrs.clone();
    addrs.push(addr);
    let mut joining = config(3, &addrs, replicas);
    joining.peers = cluster.addrs.clone();
    let node = start_node(joining, cluster.dir.path(), clock.clone()).await;
    cluster.nodes.push(node);
    cluster.addrs = addrs;
    cluster.converge(4).await;
    tokens.extend(writing.await.expect("the writer"));
    transfers_settle(&cluster.nodes).await;

    // The new node holds every session it owns under the four-node view, and nothing else.
    let view = cluster.nodes[3].node.view();
    let owned: HashSet<SessionId> = tokens
        .iter()
        .map(|token| token.sid)
        .filter(|sid| view.owners(&PlacementKey::session(sid), replicas).contains(&"n3"))
        .collect();
    let held: HashSet<SessionId> = cluster.nodes[3]
        .node
        .held_sessions()
        .scan(None, 10_000)
        .await
        .expect("scans")
        .iter()
        .map(|record| record.sid)
        .collect();
    let missing = owned.difference(&held).count();
    assert_eq!(missing, 0, "the new node lacks {missing} of the {} sessions it owns", owned.len());
    assert!(held.is_subset(&owned), "the new node got sessions it does not own");
    let share = owned.len() as f64 / tokens.len() as f64;
    assert!((0.3..0.7).contains(&share), "two owners of four: about half the keys, not {share}");
    for (i, doc) in docs.iter().enumerate() {
        let stored = cluster.nodes[3].node.held_docs().load(doc).await.expect("loads");
        match view.owners(&PlacementKey::doc(doc), replicas).contains(&"n3") {
            true => assert_eq!(stored.updates, [vec![i as u8, 2, 3]], "{doc} moved to its new owner once"),
            false => assert!(stored.is_empty(), "{doc} went to a node that does not own it"),
        }
    }

    // Every acknowledged session, written before or during the join, is valid through the new node.
    let through_new = Sessions::new(Arc::clone(&cluster.nodes[3].stores.sessions), clock.clone());
    for token in &tokens {
        through_new.validate(token).await.expect("an acknowledged session is valid after the join");
    }
    cluster.stop().await;
}
