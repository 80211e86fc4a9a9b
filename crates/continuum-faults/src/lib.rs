//! `continuum-faults`: the fault suite behind `bash bench/strategies.sh`.
//!
//! A run starts one cluster strategy as real processes, drives a mixed workload of session and
//! document operations against it while a schedule injects faults, and records every operation
//! with its start, end and answer. The checker then reads that history — and nothing else — and
//! reports every violation of what must hold, with the operations involved.
//!
//! # Layout
//! - [`history`]: the recorded operations ([`history::Record`]), their answers, and the JSON
//!   Lines file they are written to. The one thing runner and checker share.
//! - [`check`]: the checker, [`check::check`], over a history alone.
//! - [`runner`]: the scenario runner: strategies, fault schedule, workload, deployment.
//! - [`report`]: a run's summary per strategy and fault, as lines and tables.
//! - [`lab`]: where the runner's processes run: network namespaces on a bridge with faults
//!   between them ([`lab::Lab`]), child processes with logs ([`lab::Process`]), and private
//!   Redis and PostgreSQL instances.
//!
//! # Main flow
//! The runner writes a [`history::Record`] per operation as it ends; the checker reads the file
//! back and judges it.

pub mod check;
pub mod history;
pub mod lab;
pub mod report;
pub mod runner;
