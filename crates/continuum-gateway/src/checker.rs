//! [`HealthChecker`]: the active checks — `GET /readyz` on every node every interval, with a
//! timeout — feeding [`Nodes::checked`].

use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::nodes::Nodes;

/// Checks every node until cancelled.
#[derive(Debug)]
pub struct HealthChecker;

impl HealthChecker {
    /// Starts one checking task per node on `tasks`; each stops when `stop` is cancelled.
    pub fn start(nodes: Arc<Nodes>, tasks: &TaskTracker, stop: CancellationToken) {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(nodes.health().timeout));
        let client: Client<HttpConnector, Empty<Bytes>> =
            Client::builder(TokioExecutor::new()).pool_max_idle_per_host(1).build(connector);
        for index in 0..nodes.len() {
            let (nodes, client, stop) = (Arc::clone(&nodes), client.clone(), stop.clone());
            tasks.spawn(async move {
                let mut ticks = tokio::time::interval(nodes.health().interval);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tokio::select! {
                        _ = ticks.tick() => {}
                        () = stop.cancelled() => return,
                    }
                    let passed = check(&client, &nodes, index).await;
                    nodes.checked(index, passed);
                }
            });
        }
    }
}

/// One check: `/readyz` answers 200 within the timeout.
async fn check(client: &Client<HttpConnector, Empty<Bytes>>, nodes: &Nodes, index: usize) -> bool {
    let uri = format!("http://{}/readyz", nodes.get(index).spec.authority);
    let Ok(request) = Request::get(uri).body(Empty::new()) else { return false };
    let answer = async {
        let response = client.request(request).await.ok()?;
        let ready = response.status() == http::StatusCode::OK;
        // Read the body so the connection goes back to the pool.
        response.into_body().collect().await.ok()?;
        Some(ready)
    };
    tokio::time::timeout(nodes.health().timeout, answer).await.ok().flatten().unwrap_or(false)
}
