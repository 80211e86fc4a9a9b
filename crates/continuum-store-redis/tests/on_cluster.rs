//! Both conformance suites against a three-master Redis Cluster started for the test on local
//! ports, through the cluster client.

mod cluster;
mod common;

use cluster::Cluster;
use common::{Cleanup, doc_suite, scenarios, session_suite};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_suites_pass_on_a_three_master_cluster() {
    let cluster = Cluster::start();
    let cleanup = Cleanup::new(cluster.node_urls());
    session_suite(&cluster.url(), &cleanup).await;
    doc_suite(&cluster.url(), &cleanup).await;
    // The suites' keys spread over all three primaries, so the cross-slot paths (indexes written
    // beside the session scripts, the 16 expiry shards) really ran across nodes.
    let keys = cleanup.keys_per_node();
    assert!(keys.iter().all(|&count| count > 0), "keys per node: {keys:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_and_index_scenarios_hold_on_a_cluster() {
    let cluster = Cluster::start();
    let cleanup = Cleanup::new(cluster.node_urls());
    scenarios::run_all(&cluster.url(), &cleanup).await;
}
