//! `continuum-gateway`: the affinity proxy in front of Continuum nodes. It routes each request
//! by its session id or document with core's [`Placement`](continuum_core::Placement) — the
//! ranking the replicated cluster uses for ownership — so a request reaches the node holding its
//! data with no extra hop, and fails over to the next owner (the backup) when that node dies.
//!
//! # Layout
//! - [`config`]: [`GatewayConfig`], the nodes (`id=url` or a URL, id `host:port`), the affinity
//!   mode and the health settings.
//! - [`route`]: the pure route key of a request: a session id (header, cookie, path, validate
//!   body), a document, a one-time code's issuer, or none.
//! - [`choice`]: the pure failover choice: the nodes a request tries, in order, and which
//!   failures may be retried.
//! - [`health`]: [`health::NodeHealth`], the pure eject / re-admit state machine.
//! - [`remembered`]: the pure, bounded table of which node issued each live handoff code and
//!   sync ticket.
//! - [`metrics`]: [`GatewayMetrics`], served at the gateway's `/metrics`.
//! - [`nodes`]: the nodes' shared state (health, load) and their placement.
//! - [`pool`]: [`pool::Pool`], the kept-alive HTTP/1 connections to one node, and the pure
//!   choice of which idle one to reuse.
//! - [`checker`]: the active `/readyz` checks.
//! - [`proxy`]: one request through the gateway, retry and code learning included.
//! - [`websocket`]: relaying an upgraded socket, closing it with 1012 when its node dies.
//! - [`problem`]: the gateway's own problem+json answers.
//! - [`run`](mod@run): [`run()`], the accept loop and the graceful stop.
//!
//! # Main flow
//! [`run()`] validates the [`GatewayConfig`], starts the [`checker::HealthChecker`], and serves
//! every connection with [`proxy::Gateway::handle`]: read the body (bounded), take the
//! [`route::route`], ask [`nodes::Nodes::plan`] for the first node and the retry, forward on
//! that node's [`pool::Pool`], and relay the socket if the node switched protocols.

pub mod checker;
pub mod choice;
pub mod config;
pub mod health;
pub mod metrics;
pub mod nodes;
pub mod pool;
pub mod problem;
pub mod proxy;
pub mod remembered;
pub mod route;
pub mod run;
pub mod websocket;

pub use config::{Affinity, ConfigError, GatewayConfig, HealthConfig, NodeSpec};
pub use metrics::GatewayMetrics;
pub use run::{GatewayError, run};
