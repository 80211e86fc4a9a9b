//! Helpers shared by the black-box tests: stores under random prefixes on a shared server, the
//! conformance suites, and cleaning up every key the tests wrote.

#![allow(dead_code)]

pub mod bus;
pub mod proxy;
pub mod scenarios;
pub mod server;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use continuum_store::{DocStore, Sessions, testkit};
use continuum_store_redis::{RedisConfig, RedisStore};

/// The shared Redis the README's test command starts; `CONTINUUM_TEST_REDIS_URL` overrides it.
pub fn shared_url() -> String {
    std::env::var("CONTINUUM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// The conformance suites run with a clock that starts at `testkit::START` (January 2027) and
/// moves hours within a run, while Redis's expiry follows real time. With a margin of a hundred
/// years, the safety-net expiry of every key the suites write lies far past any real time a
/// test runs at, so Redis never deletes a record the suite still expects — whatever the date.
/// (With the default margin the suites would pass too, except during the few hours around
/// `START` + margin in real time.)
pub const SUITE_MARGIN: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A prefix nobody else uses: `ctest:<random>:`.
pub fn random_prefix() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("random bytes");
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("ctest:{hex}:")
}

/// Hands out random prefixes and deletes every key under them when dropped (even when the test
/// panicked), on every node given.
pub struct Cleanup {
    nodes: Vec<String>,
    prefixes: Mutex<Vec<String>>,
}

impl Cleanup {
    /// Cleans up on `nodes` (one URL for a single server, every primary for a cluster).
    pub fn new(nodes: Vec<String>) -> Self {
        Self { nodes, prefixes: Mutex::default() }
    }

    /// A new random prefix, deleted at the end.
    pub fn prefix(&self) -> String {
        let prefix = random_prefix();
        self.prefixes.lock().expect("prefixes").push(prefix.clone());
        prefix
    }

    /// How many keys exist under the prefixes handed out, per node.
    pub fn keys_per_node(&self) -> Vec<usize> {
        self.nodes.iter().map(|node| self.keys_on(node).len()).collect()
    }

    fn keys_on(&self, node: &str) -> Vec<Vec<u8>> {
        let mut connection = redis::Client::open(node)
            .and_then(|client| client.get_connection_with_timeout(Duration::from_secs(5)))
            .expect("connect for cleanup");
        let prefixes = self.prefixes.lock().expect("prefixes").clone();
        let mut keys = Vec::new();
        for prefix in prefixes {
            let mut cursor = 0u64;
            loop {
                let (next, batch): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(format!("{prefix}*"))
                    .arg("COUNT")
                    .arg(1000)
                    .query(&mut connection)
                    .expect("SCAN");
                keys.extend(batch);
                cursor = next;
                if cursor == 0 {
                    break;
                }
            }
        }
        keys
    }

    fn delete_all(&self) -> redis::RedisResult<()> {
        for node in &self.nodes {
            let keys = self.keys_on(node);
            let mut connection = redis::Client::open(node.as_str())?.get_connection()?;
            // One DEL per key: on a cluster node, keys of several slots cannot share one DEL.
            let mut pipe = redis::pipe();
            for key in &keys {
                pipe.cmd("DEL").arg(key).ignore();
            }
            pipe.query::<()>(&mut connection)?;
        }
        Ok(())
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Err(error) = self.delete_all() {
            eprintln!("could not delete the test keys: {error}");
        }
    }
}

/// The configuration of a test store under `prefix`.
pub fn config(url: &str, prefix: String) -> RedisConfig {
    RedisConfig { expiry_margin: SUITE_MARGIN, ..RedisConfig::new(url).with_prefix(prefix) }
}

/// Connects a test store, with a message saying what to start when Redis is not there.
pub async fn connect(url: &str, prefix: String) -> RedisStore {
    RedisStore::connect(config(url, prefix)).await.unwrap_or_else(|error| {
        panic!(
            "cannot connect to Redis at {url}: {error} ({:?}). The README's test command starts it \
             (Debian: apt-get install redis-server); these tests do not skip",
            std::error::Error::source(&error)
        )
    })
}

/// The session conformance suite, every check on a fresh prefix.
pub async fn session_suite(url: &str, cleanup: &Cleanup) {
    testkit::run_all(|clock| {
        let prefix = cleanup.prefix();
        async move { Sessions::new(Arc::new(connect(url, prefix).await), Arc::new(clock)) }
    })
    .await;
}

/// The document conformance suite, every check on a fresh prefix.
pub async fn doc_suite(url: &str, cleanup: &Cleanup) {
    testkit::docs::run_all(|| {
        let prefix = cleanup.prefix();
        async move { Arc::new(connect(url, prefix).await) as Arc<dyn DocStore> }
    })
    .await;
}
