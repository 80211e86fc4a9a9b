//! Continuum's HTTP server: login sessions as a service over axum.
//!
//! Two planes share one router. The backend plane (`Authorization: Bearer <api key>`) is for
//! trusted application servers: create, validate, read, patch, rotate and revoke sessions, and
//! list or revoke a principal's sessions. The client plane (the session cookie or
//! `Authorization: Session <token>`) is for browsers and devices: who am I, log out, my devices,
//! guest sessions. Every error is RFC 9457 problem+json.
//!
//! # Layout
//! - [`config`]: [`ServerConfig`], what [`run()`] needs.
//! - [`app`](mod@app): [`app()`], the router over an [`AppState`].
//! - [`api`]: the handlers, one file per route group.
//! - [`extract`]: extractors that refuse bad input (body, path, `If-Match`, credentials).
//! - [`views`]: the JSON shapes of requests and answers.
//! - [`error`]: [`ApiError`] and its problem+json rendering.
//! - [`state`]: [`AppState`], shared by every handler.
//! - [`api_keys`]: backend API keys and the key file.
//! - [`sealing_keys`]: the sealing key file (`<data>/sealing-keys`): create, rotate, retire.
//! - [`cookie`]: the session cookie.
//! - [`metrics`]: Prometheus metrics and the request middleware.
//! - [`openapi`]: the OpenAPI document generated from the handlers.
//! - [`one_time`]: single-use, short-lived codes: handoff codes and sync tickets.
//! - [`throttle`]: per-address failure counting (failed handoff redemptions).
//! - [`docs_state`]: [`Docs`], the live documents, their store and limits.
//! - [`sync`]: sync sockets: who may open a document, sockets per session, the node-wide
//!   session check, the socket loop.
//! - [`sweeper`]: [`ExpirySweeper`], the task purging expired sessions.
//! - [`events`]: [`EventFeed`](events::EventFeed), session events numbered and kept for
//!   resumption by `GET /v1/events`.
//! - [`relay`]: session events and document updates carried between this node's sockets and
//!   documents and the other nodes (over the shared store's bus).
//! - [`web`]: the admin page and the demo app, embedded, and the demo's long task.
//! - [`run`](mod@run): [`run()`], the server's life over ready stores, from start to draining
//!   them.
//!
//! # Main flow
//! `main` parses the configuration, creates the [`Metrics`], opens the stores (the server names
//! no backend: the caller hands it [`continuum_store::Stores`], and feeds the embedded store's
//! commits to [`Metrics::observe_commit`]) and binds a listener, then calls [`run()`], which
//! wraps the session store in a [`continuum_store::Sessions`] service, starts the
//! [`ExpirySweeper`], the relay and the [`sync::SessionChecker`], serves [`app()`] until the
//! shutdown future completes, and closes the stores.

pub mod api;
pub mod api_keys;
pub mod app;
pub mod config;
pub mod cookie;
pub mod docs_state;
pub mod error;
pub mod events;
pub mod extract;
pub mod metrics;
pub mod one_time;
pub mod openapi;
pub mod relay;
pub mod run;
pub mod sealing_keys;
pub mod state;
pub mod sweeper;
pub mod sync;
pub mod throttle;
pub mod views;
pub mod web;

pub use app::app;
pub use config::{GuestConfig, ServerConfig};
pub use docs_state::{Docs, SyncLimits};
pub use error::ApiError;
pub use metrics::Metrics;
pub use run::{ServerError, run};
pub use state::AppState;
pub use sweeper::ExpirySweeper;
