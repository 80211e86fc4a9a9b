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
//! - [`app`](mod@app): [`app()`], the router over an [`AppState`], and [`app_with`](app::app_with),
//!   the same with routes mounted beside the API.
//! - [`api`]: the handlers, one file per route group.
//! - [`extract`]: extractors that refuse bad input (body, path, `If-Match`, credentials).
//! - [`views`]: the JSON shapes of requests and answers.
//! - [`error`]: [`ApiError`] and its problem+json rendering.
//! - [`state`]: [`AppState`], shared by every handler.
//! - [`api_keys`]: backend API keys and the key file.
//! - [`sealing_keys`]: the sealing key file (`<data>/sealing-keys`): create, rotate, retire.
//! - [`conn`]: serving connections: the connection cap, header read and idle timeouts.
//! - [`cookie`]: the session cookie.
//! - [`origin`]: which origins may use the session cookie, decided without I/O.
//! - [`no_store`]: `Cache-Control: no-store` on the answers that carry a session, token or code.
//! - [`metrics`]: Prometheus metrics and the request middleware.
//! - [`openapi`]: the OpenAPI document generated from the handlers.
//! - [`openapi_answers`]: the error answers every operation declares (401, 400, 413, 415, 422) and
//!   their media type, `application/problem+json`.
//! - [`one_time`]: single-use, short-lived codes: handoff codes and sync tickets.
//! - [`handoff_grant`]: [`HandoffGrant`](handoff_grant::HandoffGrant), what a handoff code grants.
//! - [`principal_cap`]: the live-session cap per principal, applied when a session is created.
//! - [`throttle`]: events counted per key (failed redemptions per address, successful ones per
//!   principal).
//! - [`edge_marks`]: [`EdgeMarks`](edge_marks::EdgeMarks), each edge's replay high-water mark,
//!   kept in `<data>/edge-marks`.
//! - [`docs_state`]: [`Docs`], the live documents, their store and limits, and opening and
//!   patching one for every writer.
//! - [`sockets`]: sync sockets per session and the node-wide session check that closes those
//!   of sessions that ended.
//! - [`sync`]: sync sockets: who may open a document, the socket loop.
//! - [`sweeper`]: [`ExpirySweeper`], the task purging expired sessions.
//! - [`events`]: [`EventFeed`](events::EventFeed), session events numbered and kept for
//!   resumption by `GET /v1/events`.
//! - [`relay`]: this server as the cluster relay's local node (`/v1/events`, sockets); the
//!   relay itself, between this node and the others, is `continuum_cluster`'s.
//! - [`web`]: the browser files, embedded, and the admin page's routes.
//! - [`demo`]: the demo app's router, above the API; the binary mounts it with `--demo`.
//! - [`run`](mod@run): [`run()`], the server's life over ready stores, from start to draining
//!   them.
//!
//! # Main flow
//! `main` parses the configuration, creates the [`Metrics`], opens the stores (the server names
//! no backend: the caller hands it [`continuum_store::Stores`], and feeds the embedded store's
//! commits to [`Metrics::observe_commit`]) and binds a listener, then calls [`run()`], which
//! wraps the session store in a [`continuum_store::Sessions`] service, starts the
//! [`ExpirySweeper`], the relay and the [`sockets::SessionChecker`], serves [`app()`] with the
//! caller's mounts (the binary's `--demo` mounts [`demo::router`]) until the shutdown future
//! completes, and closes the stores.

pub mod api;
pub mod api_keys;
pub mod app;
pub mod config;
pub mod conn;
pub mod cookie;
pub mod demo;
pub mod docs_state;
pub mod edge_marks;
pub mod error;
pub mod events;
pub mod extract;
pub mod handoff_grant;
pub mod metrics;
pub mod no_store;
pub mod one_time;
pub mod openapi;
pub mod openapi_answers;
pub mod origin;
pub mod principal_cap;
pub mod relay;
pub mod run;
pub mod sealing_keys;
pub mod sockets;
pub mod state;
pub mod sweeper;
pub mod sync;
pub mod throttle;
pub mod views;
pub mod web;

pub use app::app;
pub use config::{ClientLimits, ConnectionLimits, GuestConfig, ServerConfig};
pub use docs_state::{Docs, SyncLimits};
pub use error::ApiError;
pub use metrics::Metrics;
pub use run::{ServerError, run, run_fronted};
pub use state::AppState;
pub use sweeper::ExpirySweeper;
