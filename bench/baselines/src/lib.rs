//! Baselines for Continuum's comparison benchmark (issue 5), and the load generator that measures
//! them next to Continuum in one run.
//!
//! Two small axum apps do what an application does with its own session code, on the same local
//! Redis Continuum uses:
//!
//! - `tower-sessions`: axum + tower-sessions with its Redis store (fred), used as its docs show;
//!   a patch is a read-modify-write of the session record (one `GET`, one `SET`).
//! - `raw-redis`: axum + the `redis` crate, a JSON blob per session read with `GET` and written
//!   back with `SET`, without `WATCH`/`MULTI`: the floor a hand-written app reaches, and the
//!   reference for lost updates.
//!
//! Both serve the same routes (see [`routes`]), so the load generator drives them alike.
//!
//! # Layout
//!
//! - [`routes`]: the paths and cookie handling the two baseline apps share.
//! - [`error`]: [`AppError`], what a baseline handler can fail with, as a 500.
//! - [`tower_sessions_app`]: the axum + tower-sessions + Redis app.
//! - [`raw_redis_app`]: the axum + raw `GET`/`SET` app.
//! - [`visits`]: Continuum's `visits` example app on tower-sessions (MemoryStore or Redis), for
//!   the tower middleware comparison (issue 6, `bench/tower.sh`).
//! - [`shutdown`]: when a baseline server stops.
//! - [`load`]: the load generator: closed-loop throughput and latency per system and operation,
//!   and the lost-update count under concurrent writers.

pub mod error;
pub mod load;
pub mod raw_redis_app;
pub mod routes;
pub mod shutdown;
pub mod tower_sessions_app;
pub mod visits;

pub use error::AppError;
