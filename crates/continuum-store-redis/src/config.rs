//! [`RedisConfig`]: where the Redis server or cluster is, the key prefix, and the timeouts.

use std::time::Duration;

use crate::error::RedisStoreError;

/// How a [`crate::RedisStore`] reaches Redis and names its keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisConfig {
    /// Where Redis is:
    /// - `redis://[user:password@]host:port[/db]` (or `unix:///path/to/socket`): one server,
    ///   possibly a primary with replicas behind a proxy or Sentinel-managed address;
    /// - `redis+cluster://[user:password@]host1:port1[,host2:port2…]`: a Redis Cluster, reached
    ///   through any of the listed nodes (the client discovers the others and follows
    ///   `MOVED`/`ASK` redirections).
    ///
    /// TLS (`rediss://`) is not compiled in.
    pub url: String,
    /// Put in front of every key, so several deployments (or test runs) share one server without
    /// colliding. Must not contain `{` or `}`: keys carry Redis Cluster hash tags, and a brace in
    /// the prefix would become the tag. Default [`RedisConfig::DEFAULT_PREFIX`].
    pub prefix: String,
    /// How long after a session's purge time Redis itself deletes the key (`PEXPIREAT`), as a
    /// safety net for when no sweeper runs. The sweeper ([`continuum_store::SessionStore::purge_expired`])
    /// normally deletes the session first and keeps the indexes exact; a key that Redis expired
    /// leaves index entries behind until the sweeper passes. The margin also absorbs clock skew
    /// between the application's clock and Redis's. A deadline that is already past by Redis's
    /// clock (`TIME`) sets no expiry at all, so records written with a clock far from real time
    /// (tests) are only ever deleted by the sweeper. Default [`RedisConfig::DEFAULT_EXPIRY_MARGIN`].
    pub expiry_margin: Duration,
    /// How long one command may wait for its answer before failing with a backend error (the
    /// write may still have been applied). Default [`RedisConfig::DEFAULT_RESPONSE_TIMEOUT`].
    pub response_timeout: Duration,
    /// How long connecting may take. Default [`RedisConfig::DEFAULT_CONNECT_TIMEOUT`].
    pub connect_timeout: Duration,
}

impl RedisConfig {
    /// The default key prefix.
    pub const DEFAULT_PREFIX: &'static str = "continuum:";
    /// The default [`RedisConfig::expiry_margin`]: one hour.
    pub const DEFAULT_EXPIRY_MARGIN: Duration = Duration::from_secs(3600);
    /// The default [`RedisConfig::response_timeout`].
    pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
    /// The default [`RedisConfig::connect_timeout`].
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

    /// The configuration for `url` with every other setting at its default.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: Self::DEFAULT_PREFIX.to_owned(),
            expiry_margin: Self::DEFAULT_EXPIRY_MARGIN,
            response_timeout: Self::DEFAULT_RESPONSE_TIMEOUT,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// The same configuration with another key prefix.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Where to connect: one server or the seed nodes of a cluster. Refuses a prefix with a
    /// brace and a cluster URL without nodes.
    pub(crate) fn target(&self) -> Result<Target, RedisStoreError> {
        if self.prefix.contains(['{', '}']) {
            return Err(RedisStoreError::InvalidConfig("the key prefix must not contain `{` or `}`"));
        }
        match self.url.strip_prefix(CLUSTER_SCHEME) {
            None => Ok(Target::Single(self.url.clone())),
            Some(rest) => cluster_nodes(rest).map(Target::Cluster),
        }
    }
}

impl Default for RedisConfig {
    /// A server on `redis://127.0.0.1:6379`.
    fn default() -> Self {
        Self::new("redis://127.0.0.1:6379")
    }
}

/// The scheme that selects Redis Cluster.
const CLUSTER_SCHEME: &str = "redis+cluster://";

/// What [`RedisConfig::url`] points at.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// One server, by its URL.
    Single(String),
    /// A cluster, by the `redis://` URLs of its seed nodes.
    Cluster(Vec<String>),
}

/// `[user:password@]host1:port1,host2:port2[/]` into one `redis://` URL per node, each with the
/// credentials.
fn cluster_nodes(rest: &str) -> Result<Vec<String>, RedisStoreError> {
    let rest = rest.trim_end_matches('/');
    let (credentials, hosts) = match rest.rsplit_once('@') {
        Some((credentials, hosts)) => (format!("{credentials}@"), hosts),
        None => (String::new(), rest),
    };
    let nodes: Vec<String> = hosts
        .split(',')
        .map(str::trim)
        .filter(|host| !host.is_empty())
        .map(|host| format!("redis://{credentials}{host}"))
        .collect();
    if nodes.is_empty() || hosts.contains('/') {
        return Err(RedisStoreError::InvalidConfig(
            "a cluster URL is redis+cluster://[user:password@]host:port[,host:port…]",
        ));
    }
    Ok(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_url_is_one_server() {
        let config = RedisConfig::new("redis://127.0.0.1:6380/2");
        assert_eq!(config.target().unwrap(), Target::Single("redis://127.0.0.1:6380/2".into()));
    }

    #[test]
    fn a_cluster_url_lists_its_seed_nodes_with_their_credentials() {
        let config = RedisConfig::new("redis+cluster://u:p@node-a:7000, node-b:7001/");
        assert_eq!(
            config.target().unwrap(),
            Target::Cluster(vec!["redis://u:p@node-a:7000".into(), "redis://u:p@node-b:7001".into()])
        );
        let bare = RedisConfig::new("redis+cluster://h:1");
        assert_eq!(bare.target().unwrap(), Target::Cluster(vec!["redis://h:1".into()]));
    }

    #[test]
    fn bad_cluster_urls_and_braced_prefixes_are_refused() {
        for url in ["redis+cluster://", "redis+cluster://u@", "redis+cluster://h:1/0"] {
            assert!(
                matches!(RedisConfig::new(url).target(), Err(RedisStoreError::InvalidConfig(_))),
                "{url}"
            );
        }
        let braced = RedisConfig::default().with_prefix("app{1}:");
        assert!(matches!(braced.target(), Err(RedisStoreError::InvalidConfig(_))));
    }
}
