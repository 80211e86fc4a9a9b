//! `continuum-bench`: the load generator behind `continuum bench`, a closed-loop generator in the
//! spirit of wrk and redis-benchmark.
//!
//! Each of `connections` tasks owns one keep-alive HTTP/1 connection and sends its next request
//! as soon as the previous answer is in. Latencies go into one HDR histogram per connection,
//! merged when the scenario ends. Runs are bounded: `duration` (plus `warmup` and at most
//! [`load::DRAIN`] for requests in flight) per timed scenario, `sessions` creates for the pool
//! and for `idle-memory`, every option within [`BenchOptions::check`]'s bounds, and only
//! loopback servers are accepted.
//!
//! The continuity-document scenarios ([`sync`]) drive y-websocket sockets on `/v1/sync` instead:
//! durable updates on one document, fan-out to many readers, reconnect deltas and memory per open
//! document, each bounded by its counts and timeouts.
//!
//! # Layout
//! - [`options`]: [`BenchOptions`], what a run measures, and its bounds.
//! - [`scenario`]: [`Scenario`], one kind of load (a `clap::ValueEnum` with the `clap` feature).
//! - [`error`]: [`BenchError`], why a run stopped.
//! - [`duration`]: `10s` / `1m30s` parsing and printing.
//! - [`workload`]: the request a scenario sends next, and the [`SessionPool`].
//! - [`caller`]: one connection of the generator, reconnecting as needed.
//! - [`load`]: the timed closed loop.
//! - [`timed`]: the timed scenarios of one run, in turn over `rounds`, and their lines.
//! - [`preflight`]: loopback only, ready, and a key the server accepts, before any load.
//! - `run`: [`run()`], the scenarios one after another, each report written as it is done.
//! - [`pool`]: creating N sessions with bounded concurrency.
//! - [`idle_memory`]: RSS per idle session, from `/metrics`.
//! - [`metrics`]: reading a sample from Prometheus text.
//! - [`server_metrics`]: reading the server's `/metrics` over the backend plane.
//! - [`stats`]: per-connection [`Recorder`]s and the merged [`LoadStats`].
//! - [`report`]: the table, the idle-memory line and the JSON objects.
//! - [`progress`]: progress bars on stderr when it is a terminal.
//! - [`sync`]: the continuity-document scenarios over `/v1/sync` WebSockets.
//!
//! # Main flow
//! [`run()`] checks the options, refuses a server that is not on loopback, asks `/readyz` (and,
//! when a scenario needs the key, one read-only call that the key is accepted), then runs the
//! scenarios in order, writing each report to `out` as it is done: timed scenarios given next to
//! each other as one [`timed::TimedRunner`] group, the others one at a time.

pub mod caller;
pub mod duration;
pub mod error;
pub mod idle_memory;
pub mod load;
pub mod metrics;
pub mod options;
pub mod pool;
pub mod preflight;
pub mod progress;
pub mod report;
mod run;
pub mod scenario;
pub mod server_metrics;
pub mod stats;
pub mod sync;
pub mod timed;
pub mod workload;

pub use continuum_client::BearerKey;
pub use error::BenchError;
pub use options::{BenchOptions, OptionsError};
pub use run::run;
pub use scenario::Scenario;
pub use stats::{LoadStats, Recorder};
pub use workload::{SessionPool, Workload};
