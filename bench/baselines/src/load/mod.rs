//! The comparison's load generator: the same closed loop, over the same kind of HTTP/1.1
//! keep-alive connections, against Continuum and the baselines alike.
//!
//! # Layout
//!
//! - [`connection`]: [`Connection`], one keep-alive HTTP/1.1 connection.
//! - [`system`]: [`System`], a server under test and how its API spells login, validate, patch
//!   and read-back.
//! - [`pool`]: logs in a pool of sessions before measuring.
//! - [`cpu`]: CPU time of the servers, Redis and the load generator, from `/proc`.
//! - [`stats`]: [`Recorder`] and [`Summary`]: requests, errors and latency percentiles.
//! - [`closed_loop`]: runs one operation on N connections through a warm-up and a window.
//! - [`lost_updates`]: N writers set distinct keys of one shared session; counts what is missing.
//! - [`report`]: the tables the run prints.
//!
//! The flow: for each system, [`pool::login_many`]; then [`closed_loop::run`] per (operation,
//! system), back to back; then [`lost_updates::run`] per system; then [`report`].

pub mod closed_loop;
pub mod connection;
pub mod cpu;
pub mod lost_updates;
pub mod pool;
pub mod report;
pub mod stats;
pub mod system;

pub use connection::Connection;
pub use stats::{Recorder, Summary};
pub use system::{Handle, Operation, System};
