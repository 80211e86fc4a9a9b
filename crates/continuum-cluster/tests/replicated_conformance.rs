//! The store conformance suites (sessions and documents) on a three-node replicated cluster:
//! each check asks one node, whose stores forward, copy and scatter to the other two over real
//! sockets.

mod replica;

use std::sync::Arc;

use continuum_cluster::replication::Replicas;
use continuum_store::{DocStore, Sessions, testkit};
use replica::Cluster;
use tokio::sync::Mutex;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_conformance_on_three_nodes() {
    sessions_conformance(Replicas::Backups(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_conformance_on_three_nodes_holding_everything() {
    sessions_conformance(Replicas::All).await;
}

async fn sessions_conformance(replicas: Replicas) {
    let running: Mutex<Option<Cluster>> = Mutex::new(None);
    let running = &running;
    testkit::run_all(|clock| async move {
        if let Some(previous) = running.lock().await.take() {
            previous.stop().await;
        }
        let cluster = Cluster::start(3, replicas, Arc::new(clock.clone())).await;
        let sessions = Sessions::new(Arc::clone(&cluster.nodes[0].stores.sessions), Arc::new(clock));
        *running.lock().await = Some(cluster);
        sessions
    })
    .await;
    if let Some(last) = running.lock().await.take() {
        last.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_conformance_on_three_nodes() {
    let running: Mutex<Option<Cluster>> = Mutex::new(None);
    let running = &running;
    testkit::docs::run_all(|| async move {
        if let Some(previous) = running.lock().await.take() {
            previous.stop().await;
        }
        let clock = continuum_core::SystemClock;
        let cluster = Cluster::start(3, Replicas::Backups(1), Arc::new(clock)).await;
        let docs: Arc<dyn DocStore> = Arc::clone(&cluster.nodes[1].stores.docs);
        *running.lock().await = Some(cluster);
        docs
    })
    .await;
    if let Some(last) = running.lock().await.take() {
        last.stop().await;
    }
}
