//! [`SyncError`]: why a continuity-document scenario stopped, with its cause.

use std::collections::BTreeMap;

use continuum_client::ClientError;

use super::fd_limit::FdLimitError;
use super::server_probe::CpuError;
use super::socket::SocketError;
use crate::server_metrics::MetricsError;

/// Why a document scenario could not go on. A socket that fails while others work is counted in
/// the report instead.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// This process may not open as many sockets as asked.
    #[error(transparent)]
    OpenFiles(#[from] FdLimitError),
    /// A session for the sockets could not be created.
    #[error("cannot create a session for the sync sockets")]
    CreateSession(#[source] ClientError),
    /// The answer to a create has no token or sid.
    #[error("the created session has no token or sid")]
    CreatedAnswer(#[source] serde_json::Error),
    /// A created session's token cannot be an `Authorization` header.
    #[error("the session token cannot be sent in a header")]
    UnusableToken,
    /// Not one session could be created.
    #[error("could not create any session: errors {errors:?}")]
    NoSession {
        /// The failures, by kind.
        errors: BTreeMap<String, u64>,
    },
    /// Not one socket of a kind opened.
    #[error("could not open any {role} socket")]
    NoSocket {
        /// What the sockets were for: `reader`, `writer`, `subscriber`, `document`.
        role: &'static str,
        /// The first failure, when any socket was tried.
        #[source]
        first_error: Option<SocketError>,
    },
    /// The writer's socket could not be opened.
    #[error("cannot open the writer socket")]
    OpenWriter(#[source] SocketError),
    /// The writer's socket could not sync.
    #[error("the writer could not sync")]
    SyncWriter(#[source] SocketError),
    /// The writer's update could not be sent.
    #[error("the writer's update could not be sent")]
    Send(#[source] SocketError),
    /// The server did not acknowledge the writer's updates in time.
    #[error("the writer's updates were not acked")]
    Unacked(#[source] SocketError),
    /// The `reconnect` client's first sync failed.
    #[error("the first sync failed")]
    FirstSync(#[source] SocketError),
    /// A `reconnect` client's reconnect failed.
    #[error("a reconnect failed")]
    Reconnect(#[source] SocketError),
    /// After a sync, the client lacks keys the writer made.
    #[error("the reconnected client has {keys} keys, not the {expected} the writer made")]
    NotConverged {
        /// The keys the client has.
        keys: u64,
        /// The keys the writer made.
        expected: u64,
    },
    /// The server's `/metrics` could not be read.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// The server's CPU time could not be read.
    #[error(transparent)]
    Cpu(#[from] CpuError),
    /// The task polling the server's RSS ended without an answer.
    #[error("the RSS poller failed")]
    Poller(#[source] tokio::task::JoinError),
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::time::Duration;

    use super::*;

    /// `error` and its causes, joined as the binary prints them.
    fn chain(error: &dyn std::error::Error) -> String {
        let mut text = error.to_string();
        let mut cause = error.source();
        while let Some(error) = cause {
            text.push_str(&format!(": {error}"));
            cause = error.source();
        }
        text
    }

    #[test]
    fn the_first_socket_failure_is_kept_as_the_cause() {
        let error = SyncError::NoSocket {
            role: "reader",
            first_error: Some(SocketError::Timeout(Duration::from_secs(15))),
        };
        assert_eq!(
            chain(&error),
            "could not open any reader socket: no answer from the sync socket within 15s"
        );
        let untried = SyncError::NoSocket { role: "reader", first_error: None };
        assert!(untried.source().is_none());
    }
}
