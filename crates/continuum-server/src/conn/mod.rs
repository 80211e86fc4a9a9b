//! Serving connections: the accept loop under a connection cap, and each HTTP/1 connection
//! with its header read and idle timeouts, graceful shutdown, TCP_NODELAY and the client address
//! for [`axum::extract::ConnectInfo`] (the peer, or whom a trusted proxy forwarded for).
//!
//! # Layout
//! - [`phase`]: [`Phase`](phase::Phase), the pure decision when a connection between requests
//!   must be closed.
//! - [`activity`]: [`Activity`], a connection's phase fed by its reads and
//!   answers.
//! - [`forwarded`]: the client's address behind a trusted proxy (`X-Forwarded-For`).
//!
//! `axum::serve` has no timeouts and no cap, so the server drives hyper itself here, as
//! `axum::serve` does inside.

pub mod activity;
pub mod forwarded;
pub mod phase;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Service as _;

use crate::config::ConnectionLimits;
use activity::{Activity, Tracked, WatchedIo};
use phase::Timeouts;

/// Serves `router` on `listener` until `shutdown` completes: then stops accepting, lets every
/// connection finish the answer it is writing (long-lived answers end on their own shutdown
/// signal), and returns when all have closed.
///
/// At most `limits.max_connections` connections are served at once (an upgraded sync socket
/// counts until it closes); past it the server stops accepting and new connections wait in the
/// listen backlog. A connection is closed when it sends no complete request header within
/// `header_read_timeout` (from its start, or from the first byte of a later request), or when
/// it stays idle between requests past `idle_timeout`. An answer in progress (a sync socket, an
/// event stream, a slow handler) is never timed out here.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let timeouts = Timeouts { header_read: limits.header_read_timeout, idle: limits.idle_timeout };
    // Shared by every connection; read per request, never written after start.
    let trusted: Arc<[std::net::IpAddr]> = limits.trusted_proxies.clone().into();
    let places = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let closing = CancellationToken::new();
    let connections = TaskTracker::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let place = tokio::select! {
            place = Arc::clone(&places).acquire_owned() => place.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) if is_connection_error(&error) => continue,
            Err(error) => {
                // Out of file descriptors, typically: wait rather than spin.
                tracing::error!(error = %error, "accept failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        // Answers are single writes; without TCP_NODELAY a sync socket's ack can wait ~40 ms
        // behind the client's delayed ACK of a relayed update (Nagle), measured by `continuum
        // bench`.
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(error = %error, "TCP_NODELAY not set");
        }
        let connection = Connection {
            router: router.clone(),
            peer,
            trusted: Arc::clone(&trusted),
            timeouts,
            closing: closing.clone(),
        };
        connections.spawn(connection.serve(tcp, place));
    }
    drop(listener);
    closing.cancel();
    connections.close();
    connections.wait().await;
}

fn is_connection_error(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(error.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset)
}

/// One accepted connection.
struct Connection {
    router: Router,
    peer: SocketAddr,
    trusted: Arc<[std::net::IpAddr]>,
    timeouts: Timeouts,
    closing: CancellationToken,
}

impl Connection {
    /// Serves HTTP/1 with upgrades on `tcp` until the client closes it, its deadline passes, it
    /// is upgraded, or shutdown has let its answer finish.
    async fn serve(self, tcp: TcpStream, place: OwnedSemaphorePermit) {
        let Connection { router, peer, trusted, timeouts, closing } = self;
        let activity = Arc::new(Activity::new(Instant::now(), timeouts));
        let io = TokioIo::new(WatchedIo::new(tcp, Arc::clone(&activity), place));
        let requests = Arc::clone(&activity);
        let service = service_fn(move |mut request: hyper::Request<Incoming>| {
            let forwarded_for =
                request.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
            let client = forwarded::client_addr(peer, forwarded_for, &trusted);
            request.extensions_mut().insert(ConnectInfo(client));
            let answered = requests.request();
            let answer = router.clone().call(request);
            async move {
                let response = answer.await?;
                Ok::<_, Infallible>(response.map(|body| Tracked { body, answered }))
            }
        });
        let connection = http1::Builder::new().serve_connection(io, service).with_upgrades();
        let mut connection = std::pin::pin!(connection);
        let mut shutting_down = false;
        // One timer for the connection's life, re-armed only when it fires early or the
        // deadline came earlier (see `phase::wakes_watcher`), not on every request.
        let timer = tokio::time::sleep(Duration::ZERO);
        let mut timer = std::pin::pin!(timer);
        loop {
            let deadline = activity.arm();
            if let Some(deadline) = deadline {
                timer.as_mut().reset(deadline.into());
            }
            tokio::select! {
                biased;
                served = connection.as_mut() => {
                    if let Err(error) = served {
                        tracing::debug!(%peer, error = %error, "connection ended with an error");
                    }
                    return;
                }
                () = closing.cancelled(), if !shutting_down => {
                    connection.as_mut().graceful_shutdown();
                    shutting_down = true;
                }
                () = activity.changed() => {}
                () = timer.as_mut(), if deadline.is_some() => {
                    let phase = activity.phase();
                    if phase.deadline(activity.timeouts()).is_some_and(|due| due <= Instant::now()) {
                        tracing::debug!(%peer, reason = phase.reason(), "closing a connection");
                        return;
                    }
                }
            }
        }
    }
}
