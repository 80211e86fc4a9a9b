//! [`run`]: open the store, start the sweeper, the relay and the session checker, serve until
//! shutdown, then drain.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::serve::ListenerExt as _;
use continuum_core::KeyRing;
use continuum_core::SystemClock;
use continuum_core::seal::KeyError;
use continuum_store::{
    Bus, DocStore, MemoryDocStore, MemoryStore, SealedConfig, SealedSessions, SessionStore, Sessions,
    StoreError,
};
use continuum_store_postgres::{PostgresBus, PostgresConfig, PostgresStore};
use continuum_store_redb::{RedbConfig, RedbStore};
use continuum_store_redis::{RedisBus, RedisConfig, RedisStore};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::api_keys::{self, ApiKeys, KeyFileError};
use crate::app::app_with;
use crate::config::{ServerConfig, StoreConfig};
use crate::cookie::CookieConfig;
use crate::docs_state::Docs;
use crate::metrics::Metrics;
use crate::relay::start_relay;
use crate::sealing_keys::{self, SealingKeyFileError};
use crate::sockets::SessionChecker;
use crate::state::AppState;
use crate::sweeper::ExpirySweeper;

/// The file of the embedded store inside the data directory.
pub const STORE_FILE: &str = "continuum.redb";

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The data directory cannot be created.
    #[error("cannot create the data directory {path}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The API key file cannot be read or created.
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    /// The sealing key file cannot be read, created or parsed.
    #[error(transparent)]
    SealingKeyFile(#[from] SealingKeyFileError),
    /// The configured sealing keys are not a key ring.
    #[error("invalid sealing keys in the configuration")]
    SealingKeys(#[source] KeyError),
    /// The store cannot be opened or reached.
    #[error("cannot open the store")]
    Store(#[source] StoreError),
    /// Serving failed.
    #[error("the HTTP server failed")]
    Serve(#[source] std::io::Error),
}

fn api_keys(config: &ServerConfig) -> Result<ApiKeys, ServerError> {
    if !config.api_keys.is_empty() {
        return Ok(ApiKeys::new(&config.api_keys));
    }
    let file = api_keys::load_or_create(&config.data_dir)?;
    if file.created {
        tracing::info!(path = %file.path.display(), "created an API key for the backend plane; read it from this file");
    } else {
        tracing::info!(path = %file.path.display(), keys = file.keys.len(), "backend API keys loaded from this file");
    }
    Ok(ApiKeys::new(&file.keys))
}

fn sealing_ring(config: &ServerConfig) -> Result<KeyRing, ServerError> {
    if !config.sealing_keys.is_empty() {
        let ring = KeyRing::parse(&config.sealing_keys).map_err(ServerError::SealingKeys)?;
        tracing::info!(keys = ?ring.ids(), "sealing keys from the configuration; the first seals");
        return Ok(ring);
    }
    let file = sealing_keys::load_or_create(&config.data_dir)?;
    if file.created {
        tracing::info!(path = %file.path.display(), key = %file.ring.ids()[0], "created a sealing key");
    } else {
        tracing::info!(path = %file.path.display(), keys = ?file.ring.ids(), "sealing keys loaded; the first seals");
    }
    Ok(file.ring)
}

/// The session store, the document store (one redb file with one writer and shared group
/// commits for both, or memory, or one shared store) and, for a shared store, the bus its nodes
/// share.
struct Stores {
    sessions: Arc<dyn SessionStore>,
    docs: Arc<dyn DocStore>,
    bus: Option<Arc<dyn Bus>>,
}

impl Stores {
    fn local<S: SessionStore + DocStore>(store: Arc<S>) -> Self {
        Self { sessions: Arc::clone(&store) as Arc<dyn SessionStore>, docs: store, bus: None }
    }
}

async fn open_store(config: &ServerConfig, metrics: &Arc<Metrics>) -> Result<Stores, ServerError> {
    let redb_dir = match &config.store {
        StoreConfig::Memory => {
            let (sessions, docs) = (Arc::new(MemoryStore::new()), Arc::new(MemoryDocStore::new()));
            return Ok(Stores { sessions, docs, bus: None });
        }
        StoreConfig::Redb => config.data_dir.clone(),
        StoreConfig::RedbAt(dir) => dir.clone(),
        StoreConfig::Postgres(url) => {
            tracing::info!(store = %config.store, "connecting to PostgreSQL");
            let settings =
                PostgresConfig::parse(url).map_err(|error| ServerError::Store(StoreError::backend(error)))?;
            let store = PostgresStore::connect(settings.clone())
                .await
                .map_err(|error| ServerError::Store(StoreError::backend(error)))?;
            let bus = PostgresBus::connect(&settings, &store).await.map_err(ServerError::Store)?;
            return Ok(Stores { bus: Some(Arc::new(bus)), ..Stores::local(Arc::new(store)) });
        }
        StoreConfig::Redis(url) | StoreConfig::RedisCluster(url) => {
            tracing::info!(store = %config.store, "connecting to Redis");
            let store =
                RedisStore::connect(RedisConfig::new(url.clone())).await.map_err(ServerError::Store)?;
            let bus = RedisBus::connect(&store).await.map_err(ServerError::Store)?;
            return Ok(Stores { bus: Some(Arc::new(bus)), ..Stores::local(Arc::new(store)) });
        }
    };
    std::fs::create_dir_all(&redb_dir)
        .map_err(|source| ServerError::DataDir { path: redb_dir.clone(), source })?;
    let observer = Arc::clone(metrics);
    let redb = RedbConfig {
        on_commit: Some(Arc::new(move |stats: continuum_store_redb::CommitStats| {
            observer.observe_commit(stats.ops, stats.duration.as_secs_f64());
        })),
        ..RedbConfig::default()
    };
    let path = redb_dir.join(STORE_FILE);
    tracing::info!(path = %path.display(), "opening the embedded store");
    let store = Arc::new(RedbStore::open(&path, redb).map_err(ServerError::Store)?);
    Ok(Stores::local(store))
}

/// Serves Continuum on `listener` until `shutdown` completes, then finishes requests in flight,
/// stops the sweeper and closes the store (which commits everything it acknowledged).
///
/// `mounts` builds, from the app's state, routes served beside the API (see [`app_with`]):
/// `|_| Router::new()` for none, [`crate::demo::router`] for the demo app. Their background
/// tasks, spawned on [`AppState::socket_tasks`], are waited for before the store closes.
pub async fn run(
    config: ServerConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    mounts: impl FnOnce(&AppState) -> Router<AppState> + Send,
) -> Result<(), ServerError> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|source| ServerError::DataDir { path: config.data_dir.clone(), source })?;
    let keys = api_keys(&config)?;
    let ring = sealing_ring(&config)?;
    let metrics = Arc::new(Metrics::new());
    let Stores { sessions: store, docs: doc_store, bus } = open_store(&config, &metrics).await?;
    let clock: Arc<dyn continuum_core::Clock> = Arc::new(SystemClock);
    let docs = Docs::new(doc_store, Arc::clone(&clock), config.sync.clone(), config.sync_limits.clone());
    let cookies = CookieConfig { dev: config.dev };
    let sealed = SealedSessions::new(
        ring,
        Arc::clone(&store),
        Arc::clone(&clock),
        SealedConfig {
            policy: config.policy.clone(),
            limits: config.limits.clone(),
            epoch_ttl: config.epoch_ttl,
            ..SealedConfig::new(cookies.name())
        },
    );
    let sessions =
        Sessions::with_config(Arc::clone(&store), clock, config.policy.clone(), config.limits.clone());
    let state =
        AppState::new(sessions.clone(), sealed, docs, keys, cookies, &config.guest, Arc::clone(&metrics));

    let cancel = CancellationToken::new();
    let tasks = TaskTracker::new();
    tasks.spawn(ExpirySweeper::new(sessions, config.sweep_interval, config.sweep_batch).run(cancel.clone()));
    start_relay(&state, bus, &tasks, &cancel);
    let checker = SessionChecker::new(
        Arc::clone(state.sockets()),
        state.sessions().clone(),
        state.sync_limits().session_check,
    );
    tasks.spawn(checker.run(cancel.clone()));

    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, dev = config.dev, "continuum is listening");
    }
    let state_for_shutdown = state.clone();
    // Answers are single writes; without TCP_NODELAY a sync socket's ack can wait ~40 ms behind
    // the client's delayed ACK of a relayed update (Nagle), measured by `continuum bench`.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(error = %error, "TCP_NODELAY not set");
        }
    });
    // Long-lived answers (event streams, sync sockets) end as soon as shutdown begins; the
    // graceful shutdown would otherwise wait for them forever.
    let ending = state.shutdown().clone();
    let shutdown = async move {
        shutdown.await;
        ending.cancel();
    };
    let mounted = mounts(&state);
    let app = app_with(state, mounted).into_make_service_with_connect_info::<SocketAddr>();
    let served =
        axum::serve(listener, app).with_graceful_shutdown(shutdown).await.map_err(ServerError::Serve);
    // Sockets first (their documents persist what they hold), then the sweeper, then the store.
    state_for_shutdown.socket_tasks().close();
    state_for_shutdown.socket_tasks().wait().await;
    state_for_shutdown.registry().shutdown().await;
    cancel.cancel();
    tasks.close();
    tasks.wait().await;
    let closed = store.close().await;
    tracing::info!("continuum stopped");
    served?;
    closed.map_err(ServerError::Store)
}
