//! The nodes' bus on Redis pub/sub, on a standalone server of the test's own (the scenario kills
//! pub/sub connections, which must not disturb other tests) and on a three-master cluster.

mod cluster;
mod common;

use cluster::Cluster;
use common::Cleanup;
use common::bus::nodes_hear_each_other;
use common::server::RedisProcess;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_hear_each_other_on_a_server() {
    let redis = RedisProcess::start(&[]);
    let cleanup = Cleanup::new(vec![redis.url()]);
    nodes_hear_each_other(&redis.url(), &redis.url(), &cleanup).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_hear_each_other_on_a_cluster() {
    let cluster = Cluster::start();
    let cleanup = Cleanup::new(cluster.node_urls());
    let first = cluster.node_urls().remove(0);
    nodes_hear_each_other(&cluster.url(), &first, &cleanup).await;
}
