//! A TCP proxy between the store and PostgreSQL that counts the messages the client sends, by
//! type, and can cut every connection at once.
//!
//! Counting on the wire is exact: every round trip of the extended query protocol ends with one
//! Sync message (a simple query is one Query message), every statement run is one Execute, and
//! every statement prepared is one Parse. A message is counted before it is forwarded, so by the
//! time the client has its answer, the count includes it.

use std::net::{SocketAddr, ToSocketAddrs};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// The address of the test server, for the proxy to forward to.
pub fn upstream() -> SocketAddr {
    let config = tokio_postgres::Config::from_str(&super::url()).expect("test URL");
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    (host.as_str(), port).to_socket_addrs().expect("resolve").next().expect("an address")
}

/// Messages sent by clients through the proxy so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Sync ('S') plus simple Query ('Q') messages: the round trips.
    pub round_trips: u64,
    /// Execute ('E') plus simple Query messages: the statements run.
    pub statements: u64,
    /// Parse ('P') messages: the statements prepared.
    pub parses: u64,
}

impl std::ops::Sub for Counts {
    type Output = Counts;
    fn sub(self, earlier: Counts) -> Counts {
        Counts {
            round_trips: self.round_trips - earlier.round_trips,
            statements: self.statements - earlier.statements,
            parses: self.parses - earlier.parses,
        }
    }
}

#[derive(Default)]
struct Counters {
    syncs: AtomicU64,
    queries: AtomicU64,
    executes: AtomicU64,
    parses: AtomicU64,
}

/// The proxy; dropping it (or [`CountingProxy::cut`]) closes every connection through it.
pub struct CountingProxy {
    pub addr: SocketAddr,
    counters: Arc<Counters>,
    tasks: JoinSet<()>,
}

impl CountingProxy {
    /// Listens on 127.0.0.1 and forwards every connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        Self::listen("127.0.0.1:0".parse().expect("address"), upstream, Arc::default()).await
    }

    /// Listens again on the same address after [`CountingProxy::cut`], as if the database host
    /// came back.
    pub async fn restart(self, upstream: SocketAddr) -> Self {
        let (addr, counters) = (self.addr, Arc::clone(&self.counters));
        drop(self);
        Self::listen(addr, upstream, counters).await
    }

    async fn listen(addr: SocketAddr, upstream: SocketAddr, counters: Arc<Counters>) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind the proxy");
        let addr = listener.local_addr().expect("proxy address");
        let mut tasks = JoinSet::new();
        let counting = Arc::clone(&counters);
        tasks.spawn(async move {
            // Every connection's tasks belong to this one, so aborting it cuts them all.
            let mut connections = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                let counters = Arc::clone(&counting);
                connections.spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else { return };
                    // Each message is forwarded as it is read; Nagle would hold small ones back.
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (mut client_read, mut client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    let mut server_read = server_read;
                    let down = tokio::io::copy(&mut server_read, &mut client_write);
                    let up = forward_counting(&mut client_read, server_write, &counters);
                    tokio::select! {
                        _ = down => {}
                        _ = up => {}
                    }
                });
            }
        });
        Self { addr, counters, tasks }
    }

    /// What the clients sent so far.
    pub fn counts(&self) -> Counts {
        let syncs = self.counters.syncs.load(Ordering::SeqCst);
        let queries = self.counters.queries.load(Ordering::SeqCst);
        Counts {
            round_trips: syncs + queries,
            statements: self.counters.executes.load(Ordering::SeqCst) + queries,
            parses: self.counters.parses.load(Ordering::SeqCst),
        }
    }

    /// Closes the listener and every connection, as if the database host vanished.
    pub async fn cut(&mut self) {
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Copies client messages to the server, counting them by type. The first messages have no type
/// byte (SSL or GSS encryption requests, then the startup message).
async fn forward_counting(
    client: &mut tokio::net::tcp::OwnedReadHalf,
    mut server: tokio::net::tcp::OwnedWriteHalf,
    counters: &Counters,
) -> std::io::Result<()> {
    const SSL_REQUEST: u32 = 80_877_103;
    const GSSENC_REQUEST: u32 = 80_877_104;
    loop {
        let len = client.read_u32().await?;
        let mut message = len.to_be_bytes().to_vec();
        message.resize(len.max(4) as usize, 0);
        client.read_exact(&mut message[4..]).await?;
        server.write_all(&message).await?;
        let code = message.get(4..8).map(|code| u32::from_be_bytes([code[0], code[1], code[2], code[3]]));
        if !matches!(code, Some(SSL_REQUEST | GSSENC_REQUEST)) {
            break; // That was the startup message.
        }
    }
    loop {
        let kind = client.read_u8().await?;
        let len = client.read_u32().await?;
        let mut message = vec![kind];
        message.extend_from_slice(&len.to_be_bytes());
        message.resize(1 + len.max(4) as usize, 0);
        client.read_exact(&mut message[5..]).await?;
        let counter = match kind {
            b'S' => Some(&counters.syncs),
            b'Q' => Some(&counters.queries),
            b'E' => Some(&counters.executes),
            b'P' => Some(&counters.parses),
            _ => None,
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, Ordering::SeqCst);
        }
        server.write_all(&message).await?;
    }
}
