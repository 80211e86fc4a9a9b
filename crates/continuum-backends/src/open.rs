//! [`open`]: a [`StoreConfig`] to the [`Stores`] a server runs on, connected and ready.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use continuum_cluster::replication::{self, ReplicationConfig, ReplicationError, ReplicationMetrics};
use continuum_cluster::session_cache::{self, SessionCacheMetrics};
use continuum_core::{Clock, DataKeyRing, SkewedClock, SystemClock};
use continuum_store::session_cache::CachePolicy;
use continuum_store::{EncryptedDocs, EncryptedSessions, StoreError, Stores};
use continuum_store_postgres::{PostgresBus, PostgresConfig, PostgresStore};
use continuum_store_redb::{CommitObserver, RedbConfig, RedbStore};
use continuum_store_redis::{RedisBus, RedisConfig, RedisStore};

use crate::store_config::StoreConfig;

/// The file of the embedded store inside its directory (the data directory for `redb`).
pub const STORE_FILE: &str = "continuum.redb";

/// What [`open`] passes on to the store it opens, beyond the store string.
#[derive(Clone, Default)]
pub struct OpenOptions {
    /// Called after each group commit of the embedded store (the server's metrics feed on it);
    /// the other stores have no group commit and ignore it.
    pub on_commit: Option<CommitObserver>,
    /// How this node joins its cluster, for [`StoreConfig::Replicated`] (which refuses to open
    /// without it); the other stores ignore it.
    pub cluster: Option<ReplicationConfig>,
    /// Encryption at rest: with a ring, what the store keeps of sessions' attributes and
    /// devices and of documents' content is encrypted under it (see
    /// [`continuum_store::encrypted`]); a replicated node encrypts its own embedded store.
    /// Memory keeps nothing at rest and ignores it.
    pub encryption: Option<DataKeyRing>,
    /// Milliseconds added to the clock of a replicated store (purge times of the copies it
    /// keeps), for clock-skew tests only; 0 (the default) is the system clock. The other
    /// stores take their times from the server and ignore it.
    pub clock_skew_ms: i64,
    /// A cache of sessions in front of a shared store (Redis, PostgreSQL), kept honest by the
    /// store's bus (see [`continuum_cluster::session_cache`]); the other stores refuse it.
    pub session_cache: Option<SessionCacheOptions>,
    /// A deliberately broken mode for the fault suite (feature `fault-modes`, tests only; see
    /// [`crate::fault_modes`]): `drop-copies` needs [`StoreConfig::Replicated`], the others
    /// put their decorator in front of whatever store is opened.
    #[cfg(feature = "fault-modes")]
    pub fault: Option<crate::FaultMode>,
}

/// How an origin node caches sessions in front of a shared store.
#[derive(Clone, Debug)]
pub struct SessionCacheOptions {
    /// When an entry may answer.
    pub policy: CachePolicy,
    /// Its counters, registered on `/metrics` by the caller.
    pub metrics: Arc<SessionCacheMetrics>,
}

/// What [`open`] opened: the stores, and replication's counters when the store is replicated.
pub struct Opened {
    /// The stores to serve over.
    pub stores: Stores,
    /// Replication's counters, for `/metrics`.
    pub replication: Option<Arc<ReplicationMetrics>>,
}

impl std::fmt::Debug for OpenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenOptions")
            .field("on_commit", &self.on_commit.as_ref().map(|_| "Fn(CommitStats)"))
            .field("cluster", &self.cluster)
            .field("encryption", &self.encryption.as_ref().map(DataKeyRing::ids))
            .field("clock_skew_ms", &self.clock_skew_ms)
            .field("session_cache", &self.session_cache.as_ref().map(|cache| cache.policy))
            .finish_non_exhaustive()
    }
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The embedded store's directory cannot be created.
    #[error("cannot create the data directory {path}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The store cannot be opened or reached.
    #[error("cannot open the store")]
    Store(#[source] StoreError),
    /// `replicated` without the cluster's configuration.
    #[error("the replicated store needs --node-id and --cluster-listen (and --peers to join others)")]
    NoCluster,
    /// This node could not join its cluster.
    #[error("cannot join the cluster")]
    Cluster(#[source] ReplicationError),
    /// A session cache asked of a store with no bus to keep it honest.
    #[error("--session-cache needs a shared store (redis://…, redis+cluster://…, postgres://…), not {store}")]
    CacheNeedsSharedStore {
        /// The store asked for.
        store: String,
    },
    /// A fault mode asked of a store it does not apply to (`drop-copies` without
    /// `replicated`): refused rather than silently healthy.
    #[cfg(feature = "fault-modes")]
    #[error("the fault mode {mode} needs --store replicated")]
    FaultNeedsReplicated {
        /// The mode.
        mode: crate::FaultMode,
    },
}

/// Opens the store `config` names: the embedded store in `data_dir` (or its own directory),
/// memory, or a connection pool and a bus to Redis or PostgreSQL. A shared store is reached
/// before this returns, so an unreachable one is an error at start rather than at the first
/// request.
pub async fn open(config: &StoreConfig, data_dir: &Path, options: OpenOptions) -> Result<Stores, OpenError> {
    open_counted(config, data_dir, options).await.map(|opened| opened.stores)
}

/// [`open`], also returning replication's counters for a replicated store.
pub async fn open_counted(
    config: &StoreConfig,
    data_dir: &Path,
    options: OpenOptions,
) -> Result<Opened, OpenError> {
    #[cfg(feature = "fault-modes")]
    let fault = options.fault;
    let opened = open_healthy(config, data_dir, options).await?;
    #[cfg(feature = "fault-modes")]
    let opened = match fault {
        Some(mode) => Opened { stores: crate::fault_modes::decorate(mode, opened.stores), ..opened },
        None => opened,
    };
    Ok(opened)
}

/// [`open_counted`] without the decorators of a fault mode.
async fn open_healthy(
    config: &StoreConfig,
    data_dir: &Path,
    options: OpenOptions,
) -> Result<Opened, OpenError> {
    #[cfg(feature = "fault-modes")]
    if let Some(mode @ crate::FaultMode::DropCopies) = options.fault
        && *config != StoreConfig::Replicated
    {
        return Err(OpenError::FaultNeedsReplicated { mode });
    }
    if options.session_cache.is_some() && !config.is_shared() {
        return Err(OpenError::CacheNeedsSharedStore { store: config.to_string() });
    }
    if *config == StoreConfig::Replicated {
        let cluster = options.cluster.clone().ok_or(OpenError::NoCluster)?;
        #[cfg(feature = "fault-modes")]
        let cluster =
            ReplicationConfig { drop_copies: options.fault == Some(crate::FaultMode::DropCopies), ..cluster };
        let clock = skewed(options.clock_skew_ms);
        let local = open_redb(data_dir, options).await?;
        tracing::info!(node = %cluster.node_id, listen = %cluster.listen, peers = ?cluster.peers, replicas = %cluster.replicas, "joining the cluster");
        let node = replication::start(cluster, local.sessions, local.docs, clock)
            .await
            .map_err(OpenError::Cluster)?;
        return Ok(Opened { stores: node.stores, replication: Some(node.metrics) });
    }
    let stores = open_unreplicated(config, data_dir, options).await?;
    Ok(Opened { stores, replication: None })
}

/// The system clock, moved by `skew_ms` (see [`OpenOptions::clock_skew_ms`]).
fn skewed(skew_ms: i64) -> Arc<dyn Clock> {
    match skew_ms {
        0 => Arc::new(SystemClock),
        skew_ms => Arc::new(SkewedClock::new(Arc::new(SystemClock), skew_ms)),
    }
}

async fn open_redb(dir: &Path, options: OpenOptions) -> Result<Stores, OpenError> {
    open_unreplicated(&StoreConfig::RedbAt(dir.to_owned()), dir, options).await
}

async fn open_unreplicated(
    config: &StoreConfig,
    data_dir: &Path,
    options: OpenOptions,
) -> Result<Stores, OpenError> {
    let redb_dir = match config {
        StoreConfig::Memory => return Ok(Stores::memory()),
        StoreConfig::Redb | StoreConfig::Replicated => data_dir.to_owned(),
        StoreConfig::RedbAt(dir) => dir.clone(),
        StoreConfig::Postgres(url) => {
            tracing::info!(store = %config, "connecting to PostgreSQL");
            let settings =
                PostgresConfig::parse(url).map_err(|error| OpenError::Store(StoreError::backend(error)))?;
            let store = PostgresStore::connect(settings.clone())
                .await
                .map_err(|error| OpenError::Store(StoreError::backend(error)))?;
            let bus = PostgresBus::connect(&settings, &store).await.map_err(OpenError::Store)?;
            let stores = encrypted(Stores::shared(Arc::new(store), Arc::new(bus)), options.encryption);
            return Ok(cached(stores, options.session_cache));
        }
        StoreConfig::Redis(url) | StoreConfig::RedisCluster(url) => {
            tracing::info!(store = %config, "connecting to Redis");
            let store = RedisStore::connect(RedisConfig::new(url.clone())).await.map_err(OpenError::Store)?;
            let bus = RedisBus::connect(&store).await.map_err(OpenError::Store)?;
            let stores = encrypted(Stores::shared(Arc::new(store), Arc::new(bus)), options.encryption);
            return Ok(cached(stores, options.session_cache));
        }
    };
    continuum_store::private_fs::ensure_private_dir(&redb_dir)
        .map_err(|source| OpenError::DataDir { path: redb_dir.clone(), source })?;
    let redb = RedbConfig { on_commit: options.on_commit, ..RedbConfig::default() };
    let path = redb_dir.join(STORE_FILE);
    tracing::info!(path = %path.display(), "opening the embedded store");
    let store = RedbStore::open(&path, redb).map_err(OpenError::Store)?;
    Ok(encrypted(Stores::local(Arc::new(store)), options.encryption))
}

/// `stores` (of a shared store, with its bus) behind the session cache when asked for; above
/// the encryption, so a hit costs no decryption either.
fn cached(stores: Stores, cache: Option<SessionCacheOptions>) -> Stores {
    let (Some(cache), Some(bus)) = (cache, stores.bus.clone()) else { return stores };
    tracing::info!(ttl = ?cache.policy.ttl, cap = ?cache.policy.cap, "caching sessions in front of the shared store");
    Stores { sessions: session_cache::start(stores.sessions, bus, cache.policy, cache.metrics), ..stores }
}

/// `stores` behind the encryption decorators when there is a ring. The bus is left as it is:
/// it carries notices between live nodes, not what is kept.
fn encrypted(stores: Stores, ring: Option<DataKeyRing>) -> Stores {
    let Some(ring) = ring else { return stores };
    tracing::info!(keys = ?ring.ids(), "encrypting sessions' personal data and documents at rest");
    Stores {
        sessions: Arc::new(EncryptedSessions::new(stores.sessions, ring.clone())),
        docs: Arc::new(EncryptedDocs::new(stores.docs, ring)),
        bus: stores.bus,
    }
}
