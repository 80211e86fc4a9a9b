//! [`run`]: over stores its caller opened, start the sweeper, the relay and the session checker,
//! serve until shutdown, then drain and close the stores.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use continuum_core::seal::KeyError;
use continuum_core::{Clock, KeyRing, SkewedClock, SystemClock};
use continuum_store::{SealedConfig, SealedSessions, Sessions, StoreError, Stores};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::api_keys::{self, ApiKeys, KeyFileError};
use crate::app::app_with;
use crate::config::ServerConfig;
use crate::cookie::CookieConfig;
use crate::docs_state::Docs;
use crate::metrics::Metrics;
use crate::relay::start_relay;
use crate::sealing_keys::{self, SealingKeyFileError};
use crate::sockets::SessionChecker;
use crate::state::AppState;
use crate::sweeper::ExpirySweeper;

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
    /// The store failed to close: writes it had acknowledged may not all be durable.
    #[error("cannot close the store")]
    Store(#[source] StoreError),
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

/// The data directory (created `0700`, see [`continuum_store::private_fs`]), the API keys and
/// the sealing key ring, read (or first created) before serving.
fn prepare(config: &ServerConfig) -> Result<(ApiKeys, KeyRing), ServerError> {
    continuum_store::private_fs::ensure_private_dir(&config.data_dir)
        .map_err(|source| ServerError::DataDir { path: config.data_dir.clone(), source })?;
    Ok((api_keys(config)?, sealing_ring(config)?))
}

/// The clock the server decides by: the system clock, moved by `skew_ms` for clock-skew tests
/// (see [`ServerConfig::clock_skew_ms`]).
fn server_clock(skew_ms: i64) -> Arc<dyn Clock> {
    match skew_ms {
        0 => Arc::new(SystemClock),
        skew_ms => Arc::new(SkewedClock::new(Arc::new(SystemClock), skew_ms)),
    }
}

/// Serves Continuum over `stores` on `listener` until `shutdown` completes, then finishes
/// requests in flight, stops the sweeper and closes the session store (which commits everything
/// it acknowledged). `metrics` are the ones `/metrics` shows; the caller creates them so the
/// store it opened can report its commits there.
///
/// The stores are closed on every path out, including a start refused for a bad key file.
///
/// `mounts` builds, from the app's state, routes served beside the API (see [`app_with`]):
/// `|_| Router::new()` for none, [`crate::demo::router`] for the demo app. Their background
/// tasks, spawned on [`AppState::socket_tasks`], are waited for before the store closes.
pub async fn run(
    config: ServerConfig,
    stores: Stores,
    metrics: Arc<Metrics>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    mounts: impl FnOnce(&AppState) -> Router<AppState> + Send,
) -> Result<(), ServerError> {
    run_fronted(config, stores, metrics, listener, shutdown, mounts, |app| app).await
}

/// [`run`] with `front` put in front of the app: a tier above it (the edge) answers some
/// requests itself, such as forwarding them to its origin, and hands the rest to the app it is
/// given (e.g. as the `fallback_service` of its own router).
pub async fn run_fronted(
    config: ServerConfig,
    stores: Stores,
    metrics: Arc<Metrics>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    mounts: impl FnOnce(&AppState) -> Router<AppState> + Send,
    front: impl FnOnce(Router) -> Router + Send,
) -> Result<(), ServerError> {
    let Stores { sessions: store, docs: doc_store, bus } = stores;
    let (keys, ring) = match prepare(&config) {
        Ok(prepared) => prepared,
        Err(error) => {
            if let Err(closed) = store.close().await {
                tracing::warn!(error = %closed, "the store did not close cleanly");
            }
            return Err(error);
        }
    };
    let clock = server_clock(config.clock_skew_ms);
    let docs = Docs::new(doc_store, Arc::clone(&clock), config.sync.clone(), config.sync_limits.clone());
    let cookies = CookieConfig { dev: config.dev, allowed_origins: config.allowed_origins.clone() };
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
    let state = AppState::with_limits(
        sessions.clone(),
        sealed,
        docs,
        keys,
        cookies,
        &config.guest,
        Arc::clone(&metrics),
        &config.client_limits,
    );

    let cancel = CancellationToken::new();
    let tasks = TaskTracker::new();
    tasks.spawn(ExpirySweeper::new(sessions, config.sweep_interval, config.sweep_batch).run(cancel.clone()));
    start_relay(&state, bus, &tasks, &cancel);
    if let Some(loss) = state.sessions().store().data_loss() {
        let (feed, sessions) = (state.feed().clone(), state.sessions().clone());
        tasks.spawn(crate::events::loss::watch_data_loss(feed, sessions, loss, cancel.clone()));
    }
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
    // Long-lived answers (event streams, sync sockets) end as soon as shutdown begins; the
    // graceful shutdown would otherwise wait for them forever.
    let ending = state.shutdown().clone();
    let shutdown = async move {
        shutdown.await;
        ending.cancel();
    };
    let mounted = mounts(&state);
    // Edges' replay marks, for `POST /v1/edge/replay`, in the data directory.
    let marks = Arc::new(crate::edge_marks::EdgeMarks::new(config.data_dir.join("edge-marks")));
    let app = app_with(state, mounted).layer(axum::Extension(marks));
    crate::conn::serve(listener, front(app), &config.connections, shutdown).await;
    // Sockets first (their documents persist what they hold), then the sweeper, then the store.
    state_for_shutdown.socket_tasks().close();
    state_for_shutdown.socket_tasks().wait().await;
    state_for_shutdown.registry().shutdown().await;
    cancel.cancel();
    tasks.close();
    tasks.wait().await;
    let closed = store.close().await;
    tracing::info!("continuum stopped");
    closed.map_err(ServerError::Store)
}
