//! [`Forwarder`]: a TCP forwarder, so that hosts reach services listening on the root
//! namespace's loopback (Redis, PostgreSQL) through [`super::Lab::service_ip`].

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

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
        let task = tokio::spawn(accept_loop(listener, target, limit));
        Ok(Self { local_addr, target, task })
    }

    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where it forwards to.
    pub fn target(&self) -> SocketAddr {
        self.target
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection.
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, target: SocketAddr, limit: usize) {
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
                connections.spawn(pipe(client, target));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Pipes one connection; any error ends it (both sockets close).
async fn pipe(mut client: TcpStream, target: SocketAddr) {
    let Ok(mut upstream) = TcpStream::connect(target).await else { return };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}
