//! [`Caller`]: one bench connection that sends a request, reconnects when the server closed the
//! connection, and turns every ending into an [`Outcome`] instead of an error.

use std::time::Duration;

use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Bytes;
use tokio::time::Instant;

use super::stats::Outcome;
use continuum_client::{Connection, Endpoint};

/// Pause after a failed connect, so that a server that is down is not hammered by a busy loop.
const RECONNECT_PAUSE: Duration = Duration::from_millis(50);

/// What one call gave.
#[derive(Debug)]
pub struct Answer {
    /// How it ended.
    pub outcome: Outcome,
    /// From sending the request to having the whole body; zero for a failed connect. A reconnect
    /// is not part of it, as in wrk.
    pub latency: Duration,
    /// The answer, when one arrived.
    pub response: Option<Response<Bytes>>,
}

/// One keep-alive connection of the load generator, reopened as needed.
#[derive(Debug)]
pub struct Caller {
    endpoint: Endpoint,
    connection: Option<Connection>,
}

impl Caller {
    /// A caller of `endpoint`; it connects on the first call.
    pub fn new(endpoint: Endpoint) -> Self {
        Self { endpoint, connection: None }
    }

    /// Sends `request` and waits for the whole answer until `deadline`. A broken or timed-out
    /// connection is dropped, so the next call opens a fresh one.
    pub async fn call(&mut self, request: Request<Full<Bytes>>, deadline: Instant) -> Answer {
        let connection = match &mut self.connection {
            Some(connection) if connection.is_open() => connection,
            slot => match tokio::time::timeout_at(deadline, Connection::open(&self.endpoint)).await {
                Ok(Ok(connection)) => slot.insert(connection),
                Ok(Err(error)) => {
                    tracing::debug!(error = %error, "bench connect failed");
                    tokio::time::sleep(RECONNECT_PAUSE).await;
                    return Answer { outcome: Outcome::Connect, latency: Duration::ZERO, response: None };
                }
                Err(_) => {
                    return Answer { outcome: Outcome::Connect, latency: Duration::ZERO, response: None };
                }
            },
        };
        let started = Instant::now();
        let result = tokio::time::timeout_at(deadline, connection.send(request)).await;
        let latency = started.elapsed();
        match result {
            Ok(Ok(response)) => Answer {
                outcome: Outcome::Status(response.status().as_u16()),
                latency,
                response: Some(response),
            },
            Ok(Err(error)) => {
                tracing::debug!(error = %error, "bench request failed");
                self.connection = None;
                Answer { outcome: Outcome::Io, latency, response: None }
            }
            Err(_) => {
                self.connection = None;
                Answer { outcome: Outcome::Timeout, latency, response: None }
            }
        }
    }
}
