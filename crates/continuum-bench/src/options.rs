//! [`BenchOptions`]: what one run measures and how hard, with the bounds every run stays within
//! ([`BenchOptions::check`]).

use std::time::Duration;

use crate::scenario::Scenario;

/// The most connections one run may open.
pub const MAX_CONNECTIONS: usize = 4096;

/// The longest a measurement window (or warm-up) may be.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);

/// The most turns `rounds` may ask for.
pub const MAX_ROUNDS: i64 = 1000;

/// The most sessions one run may create.
pub const MAX_SESSIONS: usize = 10_000_000;

/// The most reader sockets `fanout` may open.
pub const MAX_SOCKETS: usize = 10_000;

/// The most updates `fanout` sends, `reconnect` fills a document with or misses at once.
pub const MAX_UPDATES: usize = 10_000;

/// The most unacknowledged updates a `doc-updates` writer may keep.
pub const MAX_PIPELINE: usize = 256;

/// The longest pause between two `fanout` updates.
pub const MAX_INTERVAL: Duration = Duration::from_secs(10);

/// How one run goes: the scenarios in order and their counts. [`Default`] is what
/// `continuum bench` does without flags.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchOptions {
    /// Scenarios to run one after another; timed ones given next to each other take turns.
    pub scenarios: Vec<Scenario>,
    /// Concurrent connections; for `doc-updates`, writer sockets; for `fanout`, `doc-memory`
    /// and `burst`, sockets opened at a time.
    pub connections: u16,
    /// Measurement window of each timed scenario.
    pub duration: Duration,
    /// Warm-up before each window, not measured.
    pub warmup: Duration,
    /// Turns the timed scenarios given next to each other take, each measuring
    /// `duration / rounds`.
    pub rounds: u16,
    /// Sessions to create first (see [`Scenario::default_sessions`] when `None`).
    pub sessions: Option<u64>,
    /// `fanout` and `burst`: reader sockets on the one document.
    pub sockets: u32,
    /// `fanout` and `burst`: updates the writer sends; `reconnect`: updates in the document
    /// before the first sync.
    pub updates: u32,
    /// `fanout`: time between two updates.
    pub interval: Duration,
    /// `reconnect`: updates missed before each reconnect.
    pub missed: Vec<u32>,
    /// `doc-updates`: updates each writer keeps unacknowledged.
    pub pipeline: u16,
    /// `burst`: the server's process id, to read its CPU time from `/proc` (a local server).
    pub server_pid: Option<u32>,
    /// One JSON object per scenario instead of the table.
    pub json: bool,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            scenarios: vec![Scenario::Hello, Scenario::Validate],
            connections: 64,
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(1),
            rounds: 1,
            sessions: None,
            sockets: 1000,
            updates: 200,
            interval: Duration::from_millis(20),
            missed: vec![0, 1, 10, 100],
            pipeline: 1,
            server_pid: None,
            json: false,
        }
    }
}

/// An option outside the bounds a run stays within.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    /// A count or duration out of its range.
    #[error("{option} must be {range}")]
    OutOfRange {
        /// The option (a field of [`BenchOptions`]).
        option: &'static str,
        /// The range it must be in.
        range: String,
    },
}

impl BenchOptions {
    /// The sessions to create for `scenario`: [`Self::sessions`], or its default.
    pub fn sessions_for(&self, scenario: Scenario) -> usize {
        self.sessions.map_or(scenario.default_sessions(), |n| usize::try_from(n).unwrap_or(MAX_SESSIONS))
    }

    /// Whether a scenario talks to the backend plane and so needs an API key.
    pub fn needs_key(&self) -> bool {
        self.scenarios.iter().any(|scenario| scenario.needs_key())
    }

    /// Checks every option against its bound (the bounds of `continuum bench`'s flags).
    pub fn check(&self) -> Result<(), OptionsError> {
        let out_of_range = |option, range: String| Err(OptionsError::OutOfRange { option, range });
        let within = |value: u64, min: u64, max: u64| (min..=max).contains(&value);
        let max_secs = MAX_DURATION.as_secs();
        if !within(u64::from(self.connections), 1, MAX_CONNECTIONS as u64) {
            return out_of_range("connections", format!("between 1 and {MAX_CONNECTIONS}"));
        }
        if self.duration > MAX_DURATION || self.warmup > MAX_DURATION {
            return out_of_range("duration and warmup", format!("at most {max_secs}s"));
        }
        if !within(u64::from(self.rounds), 1, MAX_ROUNDS as u64) {
            return out_of_range("rounds", format!("between 1 and {MAX_ROUNDS}"));
        }
        if self.sessions.is_some_and(|n| !within(n, 1, MAX_SESSIONS as u64)) {
            return out_of_range("sessions", format!("between 1 and {MAX_SESSIONS}"));
        }
        if !within(u64::from(self.sockets), 1, MAX_SOCKETS as u64) {
            return out_of_range("sockets", format!("between 1 and {MAX_SOCKETS}"));
        }
        if !within(u64::from(self.updates), 1, MAX_UPDATES as u64) {
            return out_of_range("updates", format!("between 1 and {MAX_UPDATES}"));
        }
        if self.interval.is_zero() || self.interval > MAX_INTERVAL {
            return out_of_range("interval", format!("between 1ms and {}s", MAX_INTERVAL.as_secs()));
        }
        if self.missed.iter().any(|&missed| missed as usize > MAX_UPDATES) {
            return out_of_range("missed", format!("between 0 and {MAX_UPDATES}"));
        }
        if !within(u64::from(self.pipeline), 1, MAX_PIPELINE as u64) {
            return out_of_range("pipeline", format!("between 1 and {MAX_PIPELINE}"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_within_bounds() {
        let options = BenchOptions::default();
        assert_eq!(options.check(), Ok(()));
        assert!(options.needs_key(), "validate needs one");
        assert_eq!(options.sessions_for(Scenario::Validate), 1000);
        assert_eq!(options.sessions_for(Scenario::IdleMemory), 100_000);
        let hello = BenchOptions { scenarios: vec![Scenario::Hello], ..BenchOptions::default() };
        assert!(!hello.needs_key());
    }

    #[test]
    fn options_out_of_bounds_are_refused_by_name() {
        let refused = |options: BenchOptions| match options.check() {
            Err(OptionsError::OutOfRange { option, .. }) => option,
            Ok(()) => panic!("{options:?} passed"),
        };
        let base = BenchOptions::default;
        assert_eq!(refused(BenchOptions { rounds: 0, ..base() }), "rounds");
        assert_eq!(refused(BenchOptions { connections: 0, ..base() }), "connections");
        assert_eq!(
            refused(BenchOptions { duration: Duration::from_secs(7200), ..base() }),
            "duration and warmup"
        );
        assert_eq!(refused(BenchOptions { sessions: Some(0), ..base() }), "sessions");
        assert_eq!(refused(BenchOptions { sockets: 10_001, ..base() }), "sockets");
        assert_eq!(refused(BenchOptions { updates: 0, ..base() }), "updates");
        assert_eq!(refused(BenchOptions { interval: Duration::ZERO, ..base() }), "interval");
        assert_eq!(refused(BenchOptions { missed: vec![10_001], ..base() }), "missed");
        assert_eq!(refused(BenchOptions { pipeline: 257, ..base() }), "pipeline");
        let error = BenchOptions { rounds: 0, ..base() }.check().unwrap_err();
        assert_eq!(error.to_string(), "rounds must be between 1 and 1000");
    }
}
