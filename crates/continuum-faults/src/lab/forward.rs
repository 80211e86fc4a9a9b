//! [`Forwarder`]: a TCP forwarder, so that hosts reach services listening on the root
//! namespace's loopback (Redis, PostgreSQL) through [`super::Lab::service_ip`].

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// How many connections a forwarder pipes at once unless told otherwise.
pub const MAX_CONNECTIONS: usize = 1024;

/// Why a forwarder cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// The listening address cannot be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// Listens on an address and pipes each connection to a target, both ways, until either side
/// closes.
///
/// Bounded: beyond its connection limit ([`MAX_CONNECTIONS`] by default) a new connection is
/// accepted and closed at once (the client reads end of stream), so a flood cannot grow it.
/// A connection whose target refuses is closed the same way. Its task owns every connection:
/// dropping the forwarder stops listening and closes them all.
#[derive(Debug)]
pub struct Forwarder {
    local_addr: SocketAddr,
    target: SocketAddr,
    bytes: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Forwarder {
    /// Forwards `listen` (port 0 picks one) to `target`, with at most [`MAX_CONNECTIONS`].
    pub async fn start(listen: SocketAddr, target: SocketAddr) -> Result<Self, ForwardError> {
        Self::with_limit(listen, target, MAX_CONNECTIONS).await
    }

    /// [`Forwarder::start`] with at most `limit` connections at once.
    pub async fn with_limit(
        listen: SocketAddr,
        target: SocketAddr,
        limit: usize,
    ) -> Result<Self, ForwardError> {
        let bind_error = |source| ForwardError::Bind { addr: listen, source };
        let listener = TcpListener::bind(listen).await.map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        let bytes = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(accept_loop(listener, target, limit, Arc::clone(&bytes)));
        Ok(Self { local_addr, target, bytes, task })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where it forwards to.
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// Bytes piped so far, both directions together (the payload: what the client and the
    /// target wrote, without TCP/IP headers).
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection.
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, target: SocketAddr, limit: usize, bytes: Arc<AtomicU64>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let client = match accepted {
                    Ok((client, _)) => client,
                    // Out of descriptors, most likely: wait for connections to end.
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                if connections.len() >= limit {
                    drop(client);
                    continue;
                }
                connections.spawn(pipe(client, target, Arc::clone(&bytes)));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Pipes one connection, counting what it carries; the first direction to end or fail ends
/// both (both sockets close).
async fn pipe(client: TcpStream, target: SocketAddr, bytes: Arc<AtomicU64>) {
    let Ok(upstream) = TcpStream::connect(target).await else { return };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (upstream_read, upstream_write) = upstream.into_split();
    tokio::select! {
        () = copy_counted(client_read, upstream_write, &bytes) => {}
        () = copy_counted(upstream_read, client_write, &bytes) => {}
    }
}

/// Copies `from` to `to` until either ends, adding each chunk to `bytes`.
async fn copy_counted(mut from: impl AsyncRead + Unpin, mut to: impl AsyncWrite + Unpin, bytes: &AtomicU64) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
        bytes.fetch_add(n as u64, Ordering::Relaxed);
    }
}
