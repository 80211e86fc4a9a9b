//! [`RedisStore`]: the connection, the key names and the settings every operation shares.
//! The operations are in [`crate::sessions`], [`crate::sweeper`] and [`crate::documents`].

use std::fmt;
use std::sync::Arc;

use continuum_store::StoreError;

use crate::config::RedisConfig;
use crate::connection::{Connection, redacted};
use crate::error::RedisStoreError;
use crate::keys::Keys;
use crate::scripts::SCRIPTS;

/// Sessions and continuity documents in Redis or a Redis Cluster. Implements both
/// [`continuum_store::SessionStore`] and [`continuum_store::DocStore`].
///
/// Cheap to clone; clones share one multiplexed connection (per node, on a cluster), on which
/// concurrent requests are pipelined. Nothing runs in the background but the client's own
/// reconnection, so there is nothing to close.
///
/// # Durability
/// A write that returned `Ok` was applied by the Redis primary that owns its key and is visible
/// to every later read, from any node of the application. What it survives is decided by the
/// Redis deployment, not by this crate:
/// - a crash of the application process: always (the write is in Redis);
/// - a restart or crash of Redis: only with persistence. With Redis's default
///   (`appendonly no`, RDB snapshots) a restart loses every write since the last snapshot —
///   minutes of sessions and document updates. Run Redis with `appendonly yes` and
///   `appendfsync everysec` (loses at most about one second on a power loss) or
///   `appendfsync always` (loses nothing acknowledged, at the cost of an fsync per write);
/// - the loss of the primary's machine: only what its replicas had received. Replication is
///   asynchronous, so a failover can lose the last acknowledged writes; this store does not
///   issue `WAIT`/`WAITAOF`.
///
/// The crate docs (`lib.rs`) tell what each write is atomic over and where the indexes may lag.
#[derive(Clone)]
pub struct RedisStore {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub connection: Connection,
    pub keys: Keys,
    /// [`RedisConfig::expiry_margin`] in ms, as the scripts take it.
    pub margin_ms: i64,
    pub config: RedisConfig,
}

impl RedisStore {
    /// Connects to the server or cluster of `config.url`, checks that it answers and loads the
    /// scripts. Fails with [`RedisStoreError::Connect`] or [`RedisStoreError::InvalidConfig`] (as
    /// the source of [`StoreError::Backend`]) when it cannot: a server that is down is reported
    /// at start, not at the first request.
    pub async fn connect(config: RedisConfig) -> Result<Self, StoreError> {
        let connection = Connection::open(&config).await.map_err(StoreError::backend)?;
        SCRIPTS.load_all(&connection).await.map_err(StoreError::backend)?;
        let keys = Keys::new(&config.prefix);
        let margin_ms = i64::try_from(config.expiry_margin.as_millis()).unwrap_or(i64::MAX);
        tracing::info!(
            url = %redacted(&config.url),
            prefix = %config.prefix,
            cluster = connection.is_cluster(),
            "connected the Redis store"
        );
        Ok(Self { inner: Arc::new(Inner { connection, keys, margin_ms, config }) })
    }

    /// Whether Redis answers `PING` — on a cluster, every primary (the client sends it to each
    /// and fails if one does not answer) — for readiness checks such as `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut connection = self.connection();
        redis::cmd("PING").query_async::<()>(&mut connection).await.map_err(RedisStoreError::command("PING"))
    }

    /// The configuration the store was connected with.
    pub fn config(&self) -> &RedisConfig {
        &self.inner.config
    }

    /// Whether the store talks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.inner.connection.is_cluster()
    }

    /// A handle on the shared connection for one operation.
    pub(crate) fn connection(&self) -> Connection {
        self.inner.connection.clone()
    }

    pub(crate) fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    /// Sends one command and reads its answer as `T`; `name` goes into the error.
    pub(crate) async fn query<T: redis::FromRedisValue>(
        &self,
        name: &'static str,
        command: &redis::Cmd,
    ) -> Result<T, StoreError> {
        command.query_async(&mut self.connection()).await.map_err(RedisStoreError::command(name))
    }

    /// Runs a script invocation and reads its answer as `T`; `name` goes into the error.
    pub(crate) async fn invoke<T: redis::FromRedisValue>(
        &self,
        name: &'static str,
        script: &redis::ScriptInvocation<'_>,
    ) -> Result<T, StoreError> {
        script.invoke_async(&mut self.connection()).await.map_err(RedisStoreError::command(name))
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &redacted(&self.inner.config.url))
            .field("prefix", &self.inner.config.prefix)
            .field("cluster", &self.is_cluster())
            .finish_non_exhaustive()
    }
}

/// Runs `futures` concurrently on the shared connection and collects their results in order.
/// On one server the requests go out pipelined on one socket; on a cluster each goes to the
/// node of its slot, in parallel. Either way the wait is about one round trip.
pub(crate) async fn all<T, F>(futures: impl IntoIterator<Item = F>) -> Result<Vec<T>, StoreError>
where
    F: Future<Output = Result<T, StoreError>>,
{
    futures_util::future::try_join_all(futures).await
}
