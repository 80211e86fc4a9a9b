//! [`BenchError`]: why a run stopped, with its cause.

use std::net::SocketAddr;

use continuum_client::ClientError;
use http::StatusCode;

use crate::options::OptionsError;
use crate::scenario::Scenario;
use crate::server_metrics::MetricsError;
use crate::sync::SyncError;

/// Why a bench run failed. Failures of single requests or sockets are counted in the reports,
/// not raised: these are the failures that leave nothing to measure.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The options are out of bounds.
    #[error(transparent)]
    Options(#[from] OptionsError),
    /// The server URL cannot be used.
    #[error(transparent)]
    Url(ClientError),
    /// The server's host name does not resolve.
    #[error("cannot resolve {endpoint}")]
    Resolve {
        /// The server.
        endpoint: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server's host name resolves to nothing.
    #[error("{endpoint} resolves to no address")]
    NoAddress {
        /// The server.
        endpoint: String,
    },
    /// The server is not on this machine: the bench never sends load elsewhere.
    #[error("the bench only targets loopback addresses, and {endpoint} resolves to {addr}")]
    NotLoopback {
        /// The server.
        endpoint: String,
        /// The first address that is not loopback.
        addr: SocketAddr,
    },
    /// `/readyz` could not be asked.
    #[error("{endpoint} is not ready")]
    NotReady {
        /// The server.
        endpoint: String,
        /// The cause.
        #[source]
        source: ClientError,
    },
    /// `/readyz` answered with an error status.
    #[error("{endpoint} is not ready: /readyz answered {status}")]
    Unready {
        /// The server.
        endpoint: String,
        /// What `/readyz` answered.
        status: StatusCode,
    },
    /// A scenario needs the backend plane and no key was given.
    #[error("the {scenario} scenario needs an API key")]
    NoKey {
        /// The first scenario that needs one.
        scenario: Scenario,
    },
    /// The server refuses the API key (checked before any load).
    #[error("the server refuses the API key")]
    KeyRefused(#[source] ClientError),
    /// Not a single session of the pool for `validate` and `patch` could be created.
    #[error("could not create any pool session: errors {errors}")]
    NoPool {
        /// The failures, by kind.
        errors: String,
    },
    /// The server's `/metrics` could not be read (`idle-memory`).
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    /// A continuity-document scenario failed.
    #[error("the {scenario} scenario failed")]
    Scenario {
        /// The scenario.
        scenario: Scenario,
        /// The cause.
        #[source]
        source: SyncError,
    },
    /// A report could not be written.
    #[error("cannot write the report")]
    Output(#[source] std::io::Error),
    /// A report could not be encoded as JSON.
    #[error("cannot encode the report as JSON")]
    Json(#[source] serde_json::Error),
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::time::Duration;

    use super::*;
    use crate::sync::socket::SocketError;

    #[test]
    fn a_scenario_failure_names_the_scenario_and_keeps_its_cause() {
        let cause =
            SyncError::NoSocket { role: "reader", first_error: Some(SocketError::Timeout(Duration::ZERO)) };
        let error = BenchError::Scenario { scenario: Scenario::Fanout, source: cause };
        assert_eq!(error.to_string(), "the fanout scenario failed");
        let source = error.source().expect("the scenario's error is the cause");
        assert_eq!(source.to_string(), "could not open any reader socket");
        assert!(source.source().is_some(), "and the socket's error its cause");
    }
}
