//! The scenario runner: starts a strategy's processes, measures it, drives the recorded
//! workload through the fault schedule, and hands the history to the checker.
//!
//! # Layout
//! - [`strategy`]: [`Strategy`], the rows of the comparison and what each is made of.
//! - [`schedule`]: the fault schedule, decided without I/O.
//! - [`profile`]: [`Profile`], the bounded run and the long one.
//! - [`caller`]: one client's connections, with timeouts and byte counts.
//! - [`answer`]: an HTTP answer read into the history's outcome.
//! - [`recorder`]: where finished operations are recorded.
//! - [`workload`]: the session and document clients.
//! - [`perf`]: throughput and p99 without faults.
//! - [`deploy`]: a strategy's processes in the lab, and the faults done to them.
//! - [`run`]: [`run_strategy`], one strategy from start to summary.

pub mod answer;
pub mod caller;
pub mod deploy;
pub mod perf;
pub mod profile;
pub mod recorder;
pub mod run;
pub mod schedule;
pub mod strategy;
pub mod workload;

pub use profile::Profile;
pub use run::{RunConfig, RunError, run_strategy};
pub use strategy::Strategy;
