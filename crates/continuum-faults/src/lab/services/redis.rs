//! [`RedisServer`]: a private `redis-server` with an append-only file synced on every write.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::{READY_TIMEOUT, ServiceError, free_port};
use crate::lab::process::{Process, ProcessSpec};

/// A `redis-server` on 127.0.0.1 with its data in a directory of its own.
///
/// Durability: `--appendonly yes --appendfsync always` and no snapshots, so every write Redis
/// acknowledged is in the append-only file, fsynced, before the answer: it survives a kill
/// ([`RedisServer::kill`]) and a restart, which replays the file.
#[derive(Debug)]
pub struct RedisServer {
    process: Process,
    addr: SocketAddr,
}

impl RedisServer {
    /// Starts one with its data and its log (`redis.log`) in `dir`, which must exist; returns once
    /// it answers `PING`.
    pub async fn start(dir: &Path) -> Result<Self, ServiceError> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()?));
        let port = addr.port().to_string();
        let spec = ProcessSpec::new("redis-server", dir.join("redis.log"))
            .args(["--bind", "127.0.0.1", "--port", &port, "--save", "", "--appendonly", "yes"])
            .args(["--appendfsync", "always", "--dir"])
            .arg(dir);
        let mut server = Self { process: Process::start(spec).await?, addr };
        server.wait_ready().await?;
        Ok(server)
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Its log file.
    pub fn log(&self) -> &Path {
        self.process.spec().log()
    }

    /// Its process: pause, resume, memory.
    pub fn process(&mut self) -> &mut Process {
        &mut self.process
    }

    /// Stops it (SIGTERM; it syncs the file and exits) if it runs, starts it again on the same
    /// port and data, and waits until it answers.
    pub async fn restart(&mut self) -> Result<(), ServiceError> {
        self.process.restart().await?;
        self.wait_ready().await
    }

    /// Kills it (SIGKILL: a crash). [`RedisServer::restart`] brings it back.
    pub async fn kill(&mut self) -> Result<(), ServiceError> {
        self.process.kill().await?;
        Ok(())
    }

    async fn wait_ready(&mut self) -> Result<(), ServiceError> {
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if !self.process.is_running() {
                break;
            }
            if ping(self.addr).await {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(ServiceError::NotReady {
            service: "redis-server",
            addr: self.addr,
            waited: READY_TIMEOUT,
            log: PathBuf::from(self.log()),
        })
    }
}

/// `true` if `PING` is answered `+PONG` (not `-LOADING`: the file is still being replayed).
async fn ping(addr: SocketAddr) -> bool {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        stream.write_all(b"PING\r\n").await?;
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).await?;
        Ok::<_, std::io::Error>(line)
    };
    matches!(tokio::time::timeout(Duration::from_secs(1), exchange).await, Ok(Ok(line)) if line.starts_with("+PONG"))
}
