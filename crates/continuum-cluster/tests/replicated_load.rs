//! Concurrent writes through both nodes of a two-node cluster: each node is the primary of half
//! the keys and the backup of the other half, so each copies to the other while the other copies
//! to it. With 256 lock stripes, keys of both nodes share stripes; no write may wait for the
//! other node's write on the same stripe (a distributed deadlock, broken only by the call
//! timeout, once cost two nodes all but 43 patches/s). Every write succeeds at the first
//! attempt: no retry is counted on a stable cluster.

mod replica;

use std::sync::Arc;

use continuum_cluster::replication::Replicas;
use continuum_core::{NewSession, Principal, SystemClock};
use continuum_store::Sessions;
use replica::Cluster;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_through_both_nodes_at_once_never_wait_for_each_other() {
    let clock = Arc::new(SystemClock);
    let cluster = Cluster::start(2, Replicas::Backups(1), clock.clone()).await;
    let eve = Principal::parse("eve").unwrap();
    let mut writers = Vec::new();
    for writer in 0..64 {
        let store = Arc::clone(&cluster.nodes[writer % 2].stores.sessions);
        let (clock, eve) = (clock.clone(), eve.clone());
        writers.push(tokio::spawn(async move {
            let sessions = Sessions::new(store, clock);
            for i in 0..8 {
                let ask = NewSession { principal: Some(eve.clone()), ..NewSession::default() };
                let (record, _) = sessions.create(ask).await.expect("a create failed");
                let patch = json!({"writer": writer, "i": i});
                sessions.patch_attributes(&record.sid, &patch, None).await.expect("a patch failed");
            }
        }));
    }
    for writer in writers {
        writer.await.expect("a writer panicked");
    }
    for node in &cluster.nodes {
        assert_eq!(node.metrics.retries.get(), 0, "a write waited out a call timeout and was retried");
        assert!(node.metrics.replicated_writes.get() > 0);
    }
    cluster.stop().await;
}
