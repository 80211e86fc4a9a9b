//! [`Connection`]: one multiplexed, self-reconnecting connection to a Redis server or cluster,
//! behind one type so the store's code does not care which.

use futures_util::FutureExt as _;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

use crate::config::{RedisConfig, Target};
use crate::error::RedisStoreError;

/// A connection to one server or to a cluster. Cheap to clone: clones share the socket(s), and
/// concurrent commands from clones are pipelined on them rather than waiting for each other.
///
/// Both kinds reconnect by themselves after a broken connection; a command in flight when the
/// connection broke fails (it may or may not have been applied).
#[derive(Clone)]
pub(crate) enum Connection {
    /// One server, through redis-rs's [`ConnectionManager`].
    Single(ConnectionManager),
    /// A Redis Cluster: commands are routed by the slot of their first key, `MOVED` and `ASK`
    /// are followed.
    Cluster(ClusterConnection),
}

impl Connection {
    /// Connects as `config` says; fails at once if the server or cluster cannot be reached.
    pub(crate) async fn open(config: &RedisConfig) -> Result<Self, RedisStoreError> {
        let connect_error = |source| RedisStoreError::Connect { url: redacted(&config.url), source };
        match config.target()? {
            Target::Single(url) => {
                let client = redis::Client::open(url.as_str()).map_err(connect_error)?;
                let settings = ConnectionManagerConfig::new()
                    .set_response_timeout(Some(config.response_timeout))
                    .set_connection_timeout(Some(config.connect_timeout))
                    .set_number_of_retries(3);
                let manager =
                    ConnectionManager::new_with_config(client, settings).await.map_err(connect_error)?;
                Ok(Self::Single(manager))
            }
            Target::Cluster(nodes) => {
                let client = ClusterClientBuilder::new(nodes)
                    .response_timeout(config.response_timeout)
                    .connection_timeout(config.connect_timeout)
                    .build()
                    .map_err(connect_error)?;
                let connection = client.get_async_connection().await.map_err(connect_error)?;
                Ok(Self::Cluster(connection))
            }
        }
    }

    /// Whether this is a cluster connection: scripts then touch only the keys of one slot.
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }
}

/// The URL without its password, for error messages and logs.
pub(crate) fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    match rest.rsplit_once('@') {
        Some((credentials, hosts)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{hosts}")
        }
        None => url.to_owned(),
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(connection) => connection.req_packed_command(cmd),
            Self::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(connection) => connection.req_packed_commands(pipeline, offset, count),
            Self::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count).boxed(),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(connection) => connection.get_db(),
            Self::Cluster(connection) => connection.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redacted("redis://user:secret@host:6379/0"), "redis://user:***@host:6379/0");
        assert_eq!(redacted("redis+cluster://:secret@a:1,b:2"), "redis+cluster://:***@a:1,b:2");
        assert_eq!(redacted("redis://host:6379"), "redis://host:6379");
    }
}
