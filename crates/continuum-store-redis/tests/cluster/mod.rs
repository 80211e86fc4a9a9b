//! A three-master Redis Cluster on local ports for the tests, torn down when dropped.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::server::RedisProcess;

/// Three `redis-server --cluster-enabled yes` processes joined into one cluster, no replicas.
pub struct Cluster {
    /// The three primaries.
    pub nodes: Vec<RedisProcess>,
}

impl Cluster {
    /// Starts the three servers, creates the cluster with `redis-cli --cluster create` and
    /// waits until every node reports `cluster_state:ok`. Panics with the reason if it cannot:
    /// a test that needs the cluster fails, it does not skip.
    pub fn start() -> Self {
        let nodes: Vec<RedisProcess> = (0..3)
            .map(|_| {
                RedisProcess::start(&[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "5000",
                ])
            })
            .collect();
        let addresses: Vec<String> = nodes.iter().map(|node| format!("127.0.0.1:{}", node.port)).collect();
        let output = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .unwrap_or_else(|error| panic!("cannot run redis-cli to create the test cluster: {error}"));
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let cluster = Self { nodes };
        cluster.wait_until_ok();
        cluster
    }

    /// `redis+cluster://` with every node as a seed.
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self.nodes.iter().map(|node| format!("127.0.0.1:{}", node.port)).collect();
        format!("redis+cluster://{}", hosts.join(","))
    }

    /// Each node's own `redis://` URL.
    pub fn node_urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisProcess::url).collect()
    }

    fn wait_until_ok(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        for node in &self.nodes {
            let mut connection = node.connect();
            loop {
                let info: String =
                    redis::cmd("CLUSTER").arg("INFO").query(&mut connection).expect("CLUSTER INFO");
                let ready = info.contains("cluster_state:ok")
                    && info.contains("cluster_slots_ok:16384")
                    && info.contains("cluster_known_nodes:3");
                if ready {
                    break;
                }
                assert!(Instant::now() < deadline, "the test cluster never became ready:\n{info}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}
