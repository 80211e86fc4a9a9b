//! Private instances of the stores, owned by the fault suite: it can kill, pause and restart
//! them without touching the machine's own Redis or PostgreSQL.
//!
//! - [`redis`]: [`RedisServer`], append-only file with an fsync per write.
//! - [`postgres`]: [`PostgresServer`], a cluster of its own with fsync on.
//!
//! Both listen on 127.0.0.1 on a free port; hosts of a lab reach them through a
//! [`super::Forwarder`] on the lab's service address.

pub mod postgres;
pub mod redis;

pub use postgres::PostgresServer;
pub use redis::RedisServer;

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use super::exec::CommandError;
use super::process::ProcessError;

/// How long a service may take to accept connections after a start.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a service could not be started or restarted.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Its process could not be started or signalled.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// A set-up command (`initdb`, `createdb`, `getent`) failed.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// Its directory could not be prepared.
    #[error("cannot prepare {path}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// No free port could be found.
    #[error("no free port on 127.0.0.1")]
    Port(#[source] io::Error),
    /// No PostgreSQL server binaries.
    #[error("no PostgreSQL server under /usr/lib/postgresql/*/bin (Debian package postgresql)")]
    NoPostgres,
    /// The user a server must run as does not exist.
    #[error("no user {user} to run the server as")]
    NoUser {
        /// The user.
        user: &'static str,
    },
    /// It started but did not accept connections in time.
    #[error("{service} on {addr} did not accept connections within {waited:?} (its log: {log})")]
    NotReady {
        /// Which service.
        service: &'static str,
        /// Where it should listen.
        addr: SocketAddr,
        /// How long it was given.
        waited: Duration,
        /// Its log file.
        log: PathBuf,
    },
}

/// A port on 127.0.0.1 nobody listens on now (the kernel's pick; the service binds it a moment
/// later, and only another process racing for the same port in between could take it).
fn free_port() -> Result<u16, ServiceError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(ServiceError::Port)?;
    Ok(listener.local_addr().map_err(ServiceError::Port)?.port())
}
