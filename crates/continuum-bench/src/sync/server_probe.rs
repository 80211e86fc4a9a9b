//! [`ServerProbe`]: what the bench reads about the server while a scenario runs — figures from
//! `/metrics`, and the CPU time of a local server process from `/proc/<pid>/stat`.

use std::time::Duration;

use crate::metrics::{RESIDENT_MEMORY, sample};
use crate::server_metrics::{MetricsError, read_metrics};
use continuum_client::{ApiClient, BearerKey, Endpoint};

/// Peers detached because their outbound queue was full (each closed with 1013).
pub const DETACHED_FOR_LAG: &str = "continuum_sync_peers_detached_for_lag_total";
/// Awareness messages queued for peers.
pub const AWARENESS_OUT: &str = "continuum_sync_awareness_messages_out_total";
/// Update messages queued for peers.
pub const UPDATES_DELIVERED: &str = "continuum_sync_updates_delivered_total";
/// The longest outbound queue of any one peer.
pub const OUTBOUND_MAX: &str = "continuum_sync_outbound_queued_max";

/// Clock ticks per second in `/proc/<pid>/stat` (`USER_HZ`, 100 on every Linux ABI in use).
const CLOCK_TICKS_PER_SEC: u64 = 100;

/// The sync figures of one `/metrics` read.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SyncFigures {
    /// Resident memory, bytes.
    pub rss_bytes: u64,
    /// See [`DETACHED_FOR_LAG`].
    pub detached_for_lag: u64,
    /// See [`AWARENESS_OUT`].
    pub awareness_out: u64,
    /// See [`UPDATES_DELIVERED`].
    pub updates_delivered: u64,
    /// See [`OUTBOUND_MAX`].
    pub outbound_max: u64,
}

impl SyncFigures {
    /// Reads them from exposition text; a sync metric the server lacks reads as 0.
    pub fn parse(text: &str) -> Result<Self, MetricsError> {
        let value = |metric| sample(text, metric).map_or(0, |value| value.max(0.0) as u64);
        let rss = sample(text, RESIDENT_MEMORY).ok_or(MetricsError::Missing { metric: RESIDENT_MEMORY })?;
        Ok(Self {
            rss_bytes: rss.max(0.0) as u64,
            detached_for_lag: value(DETACHED_FOR_LAG),
            awareness_out: value(AWARENESS_OUT),
            updates_delivered: value(UPDATES_DELIVERED),
            outbound_max: value(OUTBOUND_MAX),
        })
    }
}

/// Reads the server's `/metrics` over one keep-alive connection.
#[derive(Debug)]
pub struct ServerProbe {
    client: ApiClient,
    key: BearerKey,
}

impl ServerProbe {
    /// A probe of the server at `endpoint`.
    pub fn new(endpoint: &Endpoint, key: &BearerKey) -> Self {
        Self { client: ApiClient::new(endpoint.clone(), key.clone()), key: key.clone() }
    }

    /// The sync figures now.
    pub async fn read(&mut self) -> Result<SyncFigures, MetricsError> {
        SyncFigures::parse(&read_metrics(&mut self.client, &self.key).await?)
    }
}

/// Why a process's CPU time could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CpuError {
    /// `/proc/<pid>/stat` cannot be read (no such process, or not Linux).
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file does not have the fields expected.
    #[error("{path} does not have the utime and stime fields")]
    Fields {
        /// The file.
        path: String,
    },
}

/// The user + system CPU time process `pid` has used, from `/proc/<pid>/stat` (Linux).
pub fn process_cpu(pid: u32) -> Result<Duration, CpuError> {
    let path = format!("/proc/{pid}/stat");
    let stat = match std::fs::read_to_string(&path) {
        Ok(stat) => stat,
        Err(source) => return Err(CpuError::Read { path, source }),
    };
    parse_cpu(&stat).ok_or(CpuError::Fields { path })
}

/// utime + stime (fields 14 and 15) of a `/proc/<pid>/stat` line. The command name (field 2)
/// may hold spaces and parentheses, so the fields are counted after its last `)`.
pub fn parse_cpu(stat: &str) -> Option<Duration> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_micros((utime + stime) * 1_000_000 / CLOCK_TICKS_PER_SEC))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_is_utime_plus_stime_after_the_command_name() {
        let stat = "4242 (contin uum) (x)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 9 0";
        assert_eq!(parse_cpu(stat), Some(Duration::from_millis(3250)));
        assert_eq!(parse_cpu("4242 (x) S 1"), None);
    }

    #[test]
    fn sync_figures_come_from_counters_and_gauges() {
        let text = "continuum_process_resident_memory_bytes 1000\n\
                    continuum_sync_peers_detached_for_lag_total 3\n\
                    continuum_sync_awareness_messages_out_total 7\n\
                    continuum_sync_outbound_queued_max 9\n";
        let figures = SyncFigures::parse(text).unwrap();
        assert_eq!(
            figures,
            SyncFigures {
                rss_bytes: 1000,
                detached_for_lag: 3,
                awareness_out: 7,
                updates_delivered: 0,
                outbound_max: 9
            }
        );
        assert!(SyncFigures::parse("continuum_sessions 1\n").is_err());
    }
}
