//! [`Profile`]: how big and how long a run is — the bounded one of the test command, or the long
//! one whose figures go to BENCHMARKS.md.

use std::time::Duration;

use super::schedule::Pace;

/// The sizes and durations of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    /// The fault schedule's pace.
    pub pace: Pace,
    /// Clients driving session operations.
    pub session_clients: usize,
    /// Clients editing documents.
    pub doc_clients: usize,
    /// Pause between one client's operations.
    pub think: Duration,
    /// A request without an answer after this is recorded as unknown.
    pub timeout: Duration,
    /// Each throughput measurement lasts this long.
    pub perf_duration: Duration,
    /// Connections of a throughput measurement.
    pub perf_connections: usize,
    /// Sessions created to measure memory per session.
    pub memory_sessions: usize,
}

impl Profile {
    /// The bounded run of `bash bench/strategies.sh` (about half a minute per strategy).
    pub fn quick() -> Self {
        Self {
            pace: Pace {
                warmup: Duration::from_millis(1_500),
                fault: Duration::from_millis(2_000),
                gap: Duration::from_millis(1_500),
                latency_ms: 50,
                skew_ms: 90_000,
            },
            session_clients: 6,
            doc_clients: 2,
            think: Duration::from_millis(5),
            timeout: Duration::from_millis(1_500),
            perf_duration: Duration::from_secs(2),
            perf_connections: 8,
            memory_sessions: 1_000,
        }
    }

    /// The long run (`--long`): longer faults, more clients, longer measurements.
    pub fn long() -> Self {
        Self {
            pace: Pace {
                warmup: Duration::from_secs(3),
                fault: Duration::from_secs(6),
                gap: Duration::from_secs(4),
                latency_ms: 100,
                skew_ms: 90_000,
            },
            session_clients: 12,
            doc_clients: 4,
            think: Duration::from_millis(2),
            timeout: Duration::from_secs(2),
            perf_duration: Duration::from_secs(10),
            perf_connections: 16,
            memory_sessions: 20_000,
        }
    }
}
