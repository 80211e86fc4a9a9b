//! [`HealthChecker`]: the active checks — `GET /readyz` on every node every interval, with a
//! timeout — feeding [`Nodes::checked`].

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Request, Uri, header};
use http_body_util::{BodyExt as _, Full};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::nodes::Nodes;
use crate::pool::{Pool, PoolConfig};

/// Checks every node until cancelled.
#[derive(Debug)]
pub struct HealthChecker;

impl HealthChecker {
    /// Starts one checking task per node on `tasks`, each over a connection of its own (apart
    /// from the requests', so a check never waits behind them) whose task runs on
    /// `connections`; each stops when `stop` is cancelled.
    pub fn start(nodes: Arc<Nodes>, tasks: &TaskTracker, connections: &TaskTracker, stop: CancellationToken) {
        let health = nodes.health().clone();
        let config = PoolConfig {
            max_connections: 1,
            idle_timeout: health.interval * 4,
            connect_timeout: health.timeout,
        };
        for index in 0..nodes.len() {
            let authority = nodes.get(index).spec.authority.clone();
            let pool = Pool::new(authority, config, connections.clone());
            let (nodes, stop) = (Arc::clone(&nodes), stop.clone());
            tasks.spawn(async move {
                let mut ticks = tokio::time::interval(nodes.health().interval);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = ticks.tick() => {}
                        () = stop.cancelled() => return,
                    }
                    let passed = check(&pool, &nodes, index).await;
                    nodes.checked(index, passed);
                }
            });
        }
    }
}

/// One check: `/readyz` answers 200 within the timeout.
async fn check(pool: &Pool, nodes: &Nodes, index: usize) -> bool {
    let Ok(host) = HeaderValue::from_str(&nodes.get(index).spec.authority) else { return false };
    let mut request = Request::new(Full::new(Bytes::new()));
    *request.uri_mut() = Uri::from_static("/readyz");
    request.headers_mut().insert(header::HOST, host);
    let answer = async {
        let response = pool.send(request).await.ok()?;
        let ready = response.status() == http::StatusCode::OK;
        // Read the body so the connection goes back to the pool.
        response.into_body().collect().await.ok()?;
        Some(ready)
    };
    tokio::time::timeout(nodes.health().timeout, answer).await.ok().flatten().unwrap_or(false)
}
