//! [`Pool`]: the kept-alive HTTP/1 connections to one node — a connection per request in
//! flight up to a bound, idle ones reused newest first, closed or stale ones dropped.
//!
//! Which idle connection to take, and that a new one is opened only when none is usable, is
//! [`IdleStack`], pure (the time and the "is it closed" test passed in); [`Pool::send`] runs it
//! with hyper's `http1` client connections, each driven by a task on the pool's tracker. A
//! connection goes back to the stack when its answer's body has been read to the end; an
//! answer dropped half-read, an error or a `101 Switching Protocols` closes it instead.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::task::TaskTracker;

type Sender = SendRequest<Full<Bytes>>;

/// How a [`Pool`] keeps its connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// Requests in flight to the node at most (and so connections open to it: one is opened
    /// only when every open one is busy); a request past it waits for one to finish.
    pub max_connections: usize,
    /// An idle connection unused for this long is closed rather than reused. Below the nodes'
    /// own idle timeout (60 s by default), so the gateway does not pick a connection the node
    /// is closing at that moment.
    pub idle_timeout: Duration,
    /// How long opening a connection may take.
    pub connect_timeout: Duration,
}

/// Why a request could not be sent, or broke.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No TCP connection could be opened.
    #[error("cannot connect to {authority}")]
    Connect {
        /// The node's `host:port`.
        authority: String,
        /// The connect error.
        #[source]
        source: std::io::Error,
    },
    /// Opening a TCP connection took longer than the connect timeout.
    #[error("connecting to {0} timed out")]
    ConnectTimeout(String),
    /// A new connection closed before the request was written to it.
    #[error("the new connection closed before the request was sent")]
    Unsent(#[source] hyper::Error),
    /// The connection broke after (some of) the request was written: the node may have acted
    /// on it.
    #[error("the connection broke after the request was sent")]
    Broken(#[source] hyper::Error),
    /// The pool's bound was closed (never done while the gateway runs).
    #[error("the connection pool is closed")]
    Closed(#[source] tokio::sync::AcquireError),
}

impl SendError {
    /// Whether no byte of the request can have reached the node.
    pub fn unsent(&self) -> bool {
        !matches!(self, SendError::Broken(_))
    }
}

/// The idle connections of one node, newest on top. Pure: the caller passes the time and how
/// to tell a closed connection.
#[derive(Debug)]
pub struct IdleStack<C> {
    /// Oldest first: each with the instant it became idle (pushes come in time order).
    entries: Vec<(C, Instant)>,
    timeout: Duration,
}

impl<C> IdleStack<C> {
    /// An empty stack whose connections go stale after `timeout` idle.
    pub fn new(timeout: Duration) -> Self {
        Self { entries: Vec::new(), timeout }
    }

    /// `connection` finished a request at `now` and may be reused.
    pub fn push(&mut self, connection: C, now: Instant) {
        self.entries.push((connection, now));
    }

    /// The connection to use at `now`: the most recently idle one that is not `closed` — it is
    /// the one most likely still open, and the older ones age out. Stale ones (idle past the
    /// timeout) and closed ones met on the way are dropped. `None`: open a new one.
    pub fn take(&mut self, now: Instant, closed: impl Fn(&C) -> bool) -> Option<C> {
        let stale =
            self.entries.partition_point(|(_, since)| now.saturating_duration_since(*since) >= self.timeout);
        self.entries.drain(..stale);
        while let Some((connection, _)) = self.entries.pop() {
            if !closed(&connection) {
                return Some(connection);
            }
        }
        None
    }

    /// How many connections are idle.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The connections to one node; clones share them.
#[derive(Clone, Debug)]
pub struct Pool {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    authority: String,
    config: PoolConfig,
    idle: Mutex<IdleStack<Sender>>,
    /// One permit per request in flight.
    permits: Arc<Semaphore>,
    connections: TaskTracker,
}

impl Pool {
    /// A pool of connections to `authority` (`host:port`); their tasks run on `connections`,
    /// and each ends when its connection closes — when the pool and every answer from it are
    /// dropped, at the latest.
    pub fn new(authority: String, config: PoolConfig, connections: TaskTracker) -> Self {
        let idle = Mutex::new(IdleStack::new(config.idle_timeout));
        let permits = Arc::new(Semaphore::new(config.max_connections.max(1)));
        Self { shared: Arc::new(Shared { authority, config, idle, permits, connections }) }
    }

    /// Sends `request` (origin-form target, `Host` set) on an idle connection, or a new one if
    /// none is usable. A request that a reused connection closed before writing it goes to the
    /// next one, so a node's idle close is never an error.
    pub async fn send(&self, mut request: Request<Full<Bytes>>) -> Result<Response<PooledBody>, SendError> {
        let permit = Arc::clone(&self.shared.permits).acquire_owned().await.map_err(SendError::Closed)?;
        loop {
            let idle = self.idle().take(Instant::now(), Sender::is_closed);
            let Some(mut sender) = idle else { break };
            if sender.ready().await.is_err() {
                continue;
            }
            match sender.try_send_request(request).await {
                Ok(response) => return Ok(self.lease(response, sender, permit)),
                Err(mut error) => match error.take_message() {
                    Some(unsent) => request = unsent,
                    None => return Err(SendError::Broken(error.into_error())),
                },
            }
        }
        let mut sender = self.connect().await?;
        match sender.try_send_request(request).await {
            Ok(response) => Ok(self.lease(response, sender, permit)),
            Err(mut error) => match error.take_message() {
                Some(_) => Err(SendError::Unsent(error.into_error())),
                None => Err(SendError::Broken(error.into_error())),
            },
        }
    }

    /// How many connections are idle now.
    pub fn idle_count(&self) -> usize {
        self.idle().len()
    }

    fn idle(&self) -> MutexGuard<'_, IdleStack<Sender>> {
        // Held for a push or a take only, never across an await.
        self.shared.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Opens a connection (`TCP_NODELAY`: answers are small and must not wait for an ACK) and
    /// starts its task.
    async fn connect(&self) -> Result<Sender, SendError> {
        let authority = &self.shared.authority;
        let connect = TcpStream::connect(authority.as_str());
        let tcp = tokio::time::timeout(self.shared.config.connect_timeout, connect)
            .await
            .map_err(|_| SendError::ConnectTimeout(authority.clone()))?
            .map_err(|source| SendError::Connect { authority: authority.clone(), source })?;
        let _ = tcp.set_nodelay(true);
        let (sender, connection) =
            http1::Builder::new().handshake(TokioIo::new(tcp)).await.map_err(SendError::Unsent)?;
        self.shared.connections.spawn(async move {
            if let Err(error) = connection.with_upgrades().await {
                tracing::debug!(error = %error, "a connection to a node ended with an error");
            }
        });
        Ok(sender)
    }

    /// The answer, its body holding the connection until it has been read; an upgraded
    /// connection is the relay's and never comes back.
    fn lease(
        &self,
        response: Response<Incoming>,
        sender: Sender,
        permit: OwnedSemaphorePermit,
    ) -> Response<PooledBody> {
        let lease = (response.status() != StatusCode::SWITCHING_PROTOCOLS).then(|| Lease {
            sender,
            shared: Arc::clone(&self.shared),
            _permit: permit,
        });
        response.map(|body| PooledBody { body, lease })
    }
}

/// A connection and its permit while an answer's body is read.
#[derive(Debug)]
struct Lease {
    sender: Sender,
    shared: Arc<Shared>,
    _permit: OwnedSemaphorePermit,
}

impl Lease {
    /// Back on the stack, before the permit is released, so the request that gets the permit
    /// finds the connection.
    fn release(self) {
        let Lease { sender, shared, _permit } = self;
        let mut idle = shared.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        idle.push(sender, Instant::now());
    }
}

/// A node's answer body; the connection goes back to its pool when the body has been read to
/// its end (or is dropped at its end), and is closed if the body is dropped before.
#[derive(Debug)]
pub struct PooledBody {
    body: Incoming,
    lease: Option<Lease>,
}

impl PooledBody {
    fn finish(&mut self) {
        if let Some(lease) = self.lease.take() {
            lease.release();
        }
    }
}

impl Body for PooledBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => this.finish(),
            Poll::Ready(Some(Ok(_))) if this.body.is_end_stream() => this.finish(),
            Poll::Ready(Some(Err(_))) => this.lease = None,
            Poll::Ready(Some(Ok(_))) | Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for PooledBody {
    fn drop(&mut self) {
        // An empty or fully read body may be dropped without its end being polled.
        if self.body.is_end_stream() {
            self.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in connection: its number, and whether it is closed.
    type Fake = (u32, bool);

    fn closed(connection: &Fake) -> bool {
        connection.1
    }

    const TIMEOUT: Duration = Duration::from_secs(30);

    #[test]
    fn the_newest_idle_connection_is_taken_first() {
        let t0 = Instant::now();
        let mut stack = IdleStack::new(TIMEOUT);
        for (n, at) in [(1, 0), (2, 1), (3, 2)] {
            stack.push((n, false), t0 + Duration::from_secs(at));
        }
        let now = t0 + Duration::from_secs(3);
        assert_eq!(stack.take(now, closed), Some((3, false)));
        assert_eq!(stack.take(now, closed), Some((2, false)));
        stack.push((4, false), now);
        assert_eq!(stack.take(now, closed), Some((4, false)), "last in, first out");
        assert_eq!(stack.len(), 1);
    }

    #[test]
    fn closed_connections_are_dropped_on_the_way_to_an_open_one() {
        let t0 = Instant::now();
        let mut stack = IdleStack::new(TIMEOUT);
        stack.push((1, false), t0);
        stack.push((2, true), t0);
        stack.push((3, true), t0);
        assert_eq!(stack.take(t0, closed), Some((1, false)));
        assert!(stack.is_empty(), "the closed ones are gone");
        assert_eq!(stack.take(t0, closed), None, "none usable: open a new one");
    }

    #[test]
    fn connections_idle_past_the_timeout_are_dropped_not_reused() {
        let t0 = Instant::now();
        let mut stack = IdleStack::new(TIMEOUT);
        stack.push((1, false), t0);
        stack.push((2, false), t0 + Duration::from_secs(10));
        let later = t0 + TIMEOUT + Duration::from_secs(5);
        stack.push((3, false), later);
        assert_eq!(stack.take(later, closed), Some((3, false)));
        assert_eq!(stack.take(later, closed), Some((2, false)), "idle 25 s: still fresh");
        let mut stack = IdleStack::new(TIMEOUT);
        stack.push((1, false), t0);
        assert_eq!(stack.take(t0 + TIMEOUT, closed), None, "idle exactly the timeout: stale");
        assert!(stack.is_empty());
    }
}
