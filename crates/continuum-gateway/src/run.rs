//! [`run`]: the gateway's runtime — the health checker, the accept loop, one HTTP/1 connection
//! per client with upgrades, and a graceful stop.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::checker::HealthChecker;
use crate::config::{ConfigError, GatewayConfig};
use crate::metrics::GatewayMetrics;
use crate::nodes::Nodes;
use crate::proxy::{Gateway, Peer};

/// How long a client may take to send a request's header.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the gateway could not run.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The configuration is invalid.
    #[error("invalid gateway configuration")]
    Config(#[from] ConfigError),
}

/// Serves the gateway on `listener` until `shutdown` completes: then stops accepting, closes
/// relayed sockets with 1001, lets answers in progress finish, and returns when every
/// connection has closed.
pub async fn run(
    config: GatewayConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), GatewayError> {
    config.validate()?;
    let metrics = Arc::new(GatewayMetrics::new());
    let nodes = Arc::new(Nodes::new(config.nodes.clone(), config.health.clone(), Arc::clone(&metrics)));
    let tasks = TaskTracker::new();
    // The connections to the nodes, apart: they end only once nothing holds them any more.
    let connections = TaskTracker::new();
    let closing = CancellationToken::new();
    HealthChecker::start(Arc::clone(&nodes), &tasks, &connections, closing.clone());
    let gateway =
        Arc::new(Gateway::new(config, nodes, metrics, tasks.clone(), closing.clone(), &connections));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors, typically: wait rather than spin.
                tracing::warn!(error = %error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let (gateway, closing) = (Arc::clone(&gateway), closing.clone());
        let client = Arc::new(Peer::new(peer));
        tasks.spawn(async move {
            let service = service_fn(move |request| {
                let (gateway, client) = (Arc::clone(&gateway), Arc::clone(&client));
                async move { Ok::<_, Infallible>(gateway.handle(request, &client).await) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(tcp), service)
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%peer, error = %error, "client connection ended with an error");
                    }
                }
                () = closing.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    tracing::info!("gateway stopping");
    closing.cancel();
    tasks.close();
    tasks.wait().await;
    // Every client connection has closed: dropping the pools closes the idle connections.
    drop(gateway);
    connections.close();
    connections.wait().await;
    Ok(())
}
