//! What a run of one strategy showed, computed from its history, its schedule and its
//! measurements, without I/O: per fault, how long the service stopped answering and what went
//! wrong inside the fault's window; and the tables and lines that present it.
//!
//! # Layout
//! - [`summary`]: [`StrategySummary`] and [`FaultSummary`], from a history.
//! - [`table`]: the markdown table and the one line per strategy.
//! - [`chart`]: the same as SVG bar charts.

pub mod chart;
pub mod summary;
pub mod table;

pub use summary::{FaultSummary, Resources, StrategySummary, summarize};
