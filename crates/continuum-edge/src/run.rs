//! [`run`]: the edge's life — the origin client, the session cache and its event listener and
//! touch task, the replayer and the documents' downstreams, then the server app over the cached
//! store with the forwarding front, until shutdown.

use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use continuum_server::{Metrics, ServerError};
use continuum_store::Stores;
use continuum_store_redb::{RedbConfig, RedbStore};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::bus::EdgeBus;
use crate::cached_store::CachedSessions;
use crate::config::EdgeConfig;
use crate::downstreams::Downstreams;
use crate::edge_id::{self, EdgeIdError};
use crate::forward::{Forwarder, front};
use crate::listener::EventListener;
use crate::metrics::EdgeMetrics;
use crate::origin::OriginClient;
use crate::queue::{EdgeQueue, QueueError};
use crate::queued_docs::QueuedDocs;
use crate::replayer::Replayer;
use crate::upstream::Upstream;
use continuum_store::session_cache::SessionCache;

/// The edge's own copy of its documents, in the data directory.
pub const DOCS_FILE: &str = "edge-docs.redb";

/// How many of the origin's heartbeats may be missed before its stream counts as dead.
const MISSED_HEARTBEATS: u32 = 3;

/// Why the edge could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum EdgeError {
    /// The origin is not an `http://host:port` URL.
    #[error("invalid origin URL {0:?}: expected http://host:port")]
    OriginUrl(String),
    /// The API key cannot be sent in a header.
    #[error("the origin API key is not a valid header value")]
    ApiKey(#[source] http::header::InvalidHeaderValue),
    /// The data directory cannot be created.
    #[error("cannot create the data directory")]
    DataDir(#[source] std::io::Error),
    /// The edge id cannot be had.
    #[error(transparent)]
    EdgeId(#[from] EdgeIdError),
    /// The queue cannot be opened.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The local copy of the documents cannot be opened.
    #[error("cannot open the edge's documents")]
    Docs(#[source] continuum_store::StoreError),
    /// The server app failed.
    #[error(transparent)]
    Server(#[from] ServerError),
}

fn check_origin(origin: &str) -> Result<(), EdgeError> {
    let bad = || EdgeError::OriginUrl(origin.to_owned());
    let uri: http::Uri = origin.parse().map_err(|_| bad())?;
    let plain = uri.scheme_str() == Some("http") && uri.host().is_some();
    let bare = uri.path_and_query().is_none_or(|path| path.as_str() == "/" || path.as_str().is_empty());
    (plain && bare).then_some(()).ok_or_else(bad)
}

/// Serves the edge on `listener` until `shutdown` completes, then lets sockets and the app
/// drain and stops its tasks.
pub async fn run(
    mut config: EdgeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), EdgeError> {
    check_origin(&config.origin)?;
    let origin = OriginClient::new(&config.origin, &config.origin_api_key).map_err(EdgeError::ApiKey)?;
    continuum_store::private_fs::ensure_private_dir(&config.server.data_dir).map_err(EdgeError::DataDir)?;
    let edge_id = edge_id::load_or_create(&config.server.data_dir, config.edge_id.as_deref())?;
    // The edge's own backend plane (what it does not forward) takes the key it shows the origin.
    config.server.api_keys = vec![config.origin_api_key.clone()];
    tracing::info!(%edge_id, origin = %config.origin, cap = ?config.cache.cap, ttl = ?config.cache.ttl, "starting the edge");

    let metrics = Arc::new(EdgeMetrics::default());
    let server_metrics = Arc::new(Metrics::with(|registry| metrics.register(registry)));
    let cache = Arc::new(Mutex::new(SessionCache::new(config.cache)));
    let (store, toucher) = CachedSessions::new(Arc::clone(&cache), origin.clone(), Arc::clone(&metrics));
    let bus = Arc::new(EdgeBus::default());
    let queue = EdgeQueue::open(&config.server.data_dir)?;
    let (acked, queued) = queue.pending(usize::MAX).await?;
    let upstream = Arc::new(Upstream::new(acked, queued.into_iter().map(|entry| (entry.key, entry.seq))));
    let registry_slot: Arc<OnceLock<continuum_sync::DocRegistry>> = Arc::default();
    let local = Arc::new(
        RedbStore::open(&config.server.data_dir.join(DOCS_FILE), RedbConfig::default())
            .map_err(EdgeError::Docs)?,
    );
    let stores = Stores {
        sessions: Arc::new(store),
        docs: Arc::new(QueuedDocs::new(Arc::clone(&local), queue.clone(), Arc::clone(&upstream))),
        bus: Some(Arc::clone(&bus) as Arc<dyn continuum_store::Bus>),
    };
    // What the edge acknowledges is in its queue, not at the origin yet.
    config.server.sync.ack_message = continuum_core::ywire::MSG_ACK_EDGE;
    // The queue keeps each update's writer, for the origin to check at replay.
    config.server.sync.append_per_writer = true;

    let cancel = CancellationToken::new();
    let tasks = TaskTracker::new();
    tasks.spawn(toucher.run(cancel.clone()));
    let silence = continuum_server::api::events::HEARTBEAT * MISSED_HEARTBEATS;
    let replayer = Replayer {
        queue,
        origin: origin.clone(),
        edge_id,
        bus: Arc::clone(&bus),
        metrics: Arc::clone(&metrics),
        upstream: Arc::clone(&upstream),
        registry: Arc::clone(&registry_slot),
    };
    tasks.spawn(replayer.run(cancel.clone()));
    let listener_task = EventListener {
        origin: origin.clone(),
        cache,
        bus,
        metrics: Arc::clone(&metrics),
        silence: silence.max(Duration::from_millis(500)),
    };
    tasks.spawn(listener_task.run(cancel.clone()));

    let downstreams = Downstreams::new(origin.clone(), Arc::clone(&metrics), config.downstream_linger);
    let forwarder = Arc::new(Forwarder {
        origin,
        sockets: TaskTracker::new(),
        closing: CancellationToken::new(),
        metrics,
    });
    let closing = forwarder.closing.clone();
    let stopping = downstreams.clone();
    let shutdown = async move {
        shutdown.await;
        closing.cancel();
        // Before the app waits for its documents: each downstream holds one.
        stopping.stop();
    };
    let demo = config.demo;
    let hook = downstreams.hook();
    let mounts = move |state: &continuum_server::AppState| {
        // Before any document opens: edge acks are followed by cloud acks once replayed.
        let check = Arc::clone(&upstream);
        state.registry().on_upstream(Arc::new(move |key, seq| check.reached(key, seq)));
        // Every document with a device here gets a downstream from the origin.
        state.registry().on_peers(hook);
        let _ = registry_slot.set(state.registry().clone());
        match demo {
            true => continuum_server::demo::router(state),
            false => Default::default(),
        }
    };
    let front_forwarder = Arc::clone(&forwarder);
    let served = continuum_server::run_fronted(
        config.server,
        stores,
        server_metrics,
        listener,
        shutdown,
        mounts,
        move |app| front(front_forwarder, app),
    )
    .await;
    forwarder.closing.cancel();
    downstreams.stop();
    downstreams.wait().await;
    forwarder.sockets.close();
    forwarder.sockets.wait().await;
    cancel.cancel();
    tasks.close();
    tasks.wait().await;
    if let Err(error) = continuum_store::SessionStore::close(&*local).await {
        tracing::warn!(
            error = &error as &dyn std::error::Error,
            "the edge's documents did not close cleanly"
        );
    }
    served.map_err(EdgeError::Server)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_is_a_plain_http_base_url() {
        for good in ["http://127.0.0.1:7878", "http://origin.internal:80/", "http://localhost"] {
            assert!(check_origin(good).is_ok(), "{good}");
        }
        for bad in ["https://origin:443", "127.0.0.1:7878", "http://origin/v1", "ftp://x", ""] {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
    }
}
