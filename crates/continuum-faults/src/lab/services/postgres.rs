//! [`PostgresServer`]: a private PostgreSQL cluster (its own `initdb`, port and socket
//! directory), run as the `postgres` user when this process is root.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

use super::{READY_TIMEOUT, ServiceError, free_port};
use crate::lab::exec;
use crate::lab::process::{Process, ProcessSpec, StopSignal};
use crate::lab::step::Step;

/// Where Debian installs the server binaries, one directory per major version.
const INSTALL_DIR: &str = "/usr/lib/postgresql";

/// The database [`PostgresServer::start`] creates in a new cluster.
pub const DATABASE: &str = "continuum";

/// A PostgreSQL server on 127.0.0.1 with its cluster in `<dir>/data`, trust authentication for
/// the role `postgres`, its unix socket in `<dir>`, and its log in `<dir>/postgres.log`.
///
/// Durability: `fsync=on`, `synchronous_commit=on`, `full_page_writes=on`: a transaction whose
/// commit was acknowledged survives a kill of every server process ([`PostgresServer::kill`])
/// and a power loss; the next start recovers it from the WAL.
#[derive(Debug)]
pub struct PostgresServer {
    process: Process,
    addr: SocketAddr,
    bin: PathBuf,
}

impl PostgresServer {
    /// Starts a server on `dir` (which must exist), making the cluster and the database
    /// [`DATABASE`] first if `dir` has none; returns once it accepts connections. As root, `dir`
    /// is given to the `postgres` user, whose processes must be able to reach it.
    pub async fn start(dir: &Path) -> Result<Self, ServiceError> {
        // Absolute: PostgreSQL resolves its socket directory from its data directory.
        let dir =
            &std::path::absolute(dir).map_err(|source| ServiceError::Dir { path: dir.to_owned(), source })?;
        let bin = bin_dir().await?;
        let user = if rustix::process::geteuid().is_root() { Some(postgres_user().await?) } else { None };
        if let Some((uid, gid)) = user {
            let owned = dir.to_owned();
            tokio::task::spawn_blocking(move || std::os::unix::fs::chown(&owned, Some(uid), Some(gid)))
                .await
                .expect("chown does not panic")
                .map_err(|source| ServiceError::Dir { path: dir.to_owned(), source })?;
        }
        let data = dir.join("data");
        let fresh = !tokio::fs::try_exists(data.join("PG_VERSION")).await.unwrap_or(false);
        if fresh {
            let initdb = Step::new::<_, String>([])
                .with_arg(bin.join("initdb"))
                .with_arg("-D")
                .with_arg(&data)
                .with_args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-instructions"]);
            exec::run(&as_user(initdb, user).in_dir(dir)).await?;
        }
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()?));
        let port = addr.port().to_string();
        let mut spec = ProcessSpec::new(bin.join("postgres"), dir.join("postgres.log"))
            .arg("-D")
            .arg(&data)
            .args(["-p", &port, "-c", "listen_addresses=127.0.0.1", "-c"])
            .arg(format!("unix_socket_directories={}", dir.display()))
            .args(["-c", "fsync=on", "-c", "synchronous_commit=on", "-c", "full_page_writes=on"])
            .current_dir(dir)
            .whole_tree()
            .stop_signal(StopSignal::Interrupt);
        if let Some((uid, gid)) = user {
            spec = spec.as_user(uid, gid);
        }
        let mut server = Self { process: Process::start(spec).await?, addr, bin };
        server.wait_ready().await?;
        if fresh {
            let createdb = Step::new([server.tool("createdb")]).with_args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                DATABASE,
            ]);
            exec::run(&createdb).await?;
        }
        Ok(server)
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `postgres://postgres@127.0.0.1:<port>/continuum`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@{}/{DATABASE}", self.addr)
    }

    /// Its log file.
    pub fn log(&self) -> &Path {
        self.process.spec().log()
    }

    /// Its postmaster process: pause, resume and kill reach every server process.
    pub fn process(&mut self) -> &mut Process {
        &mut self.process
    }

    /// A fast shutdown (SIGINT: open transactions roll back, committed ones are on disk) if it
    /// runs, then a start on the same port and data; returns once it accepts connections.
    pub async fn restart(&mut self) -> Result<(), ServiceError> {
        self.process.restart().await?;
        self.wait_ready().await
    }

    /// Kills every server process (SIGKILL to the postmaster and its workers, the postmaster
    /// stopped first so it starts no new one: a crash).
    /// [`PostgresServer::restart`] brings it back through crash recovery.
    pub async fn kill(&mut self) -> Result<(), ServiceError> {
        self.process.kill().await?;
        Ok(())
    }

    fn tool(&self, name: &str) -> String {
        self.bin.join(name).to_string_lossy().into_owned()
    }

    async fn wait_ready(&mut self) -> Result<(), ServiceError> {
        let port = self.addr.port().to_string();
        let probe =
            Step::best_effort([self.tool("pg_isready")]).with_args(["-q", "-h", "127.0.0.1", "-p", &port]);
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline && self.process.is_running() {
            if exec::run(&probe).await.is_ok_and(|output| output.status.success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(ServiceError::NotReady {
            service: "postgres",
            addr: self.addr,
            waited: READY_TIMEOUT,
            log: PathBuf::from(self.log()),
        })
    }
}

fn as_user(step: Step, user: Option<(u32, u32)>) -> Step {
    match user {
        Some((uid, gid)) => step.as_user(uid, gid),
        None => step,
    }
}

/// The newest `/usr/lib/postgresql/<major>/bin` that has a `postgres`.
async fn bin_dir() -> Result<PathBuf, ServiceError> {
    let mut entries = tokio::fs::read_dir(INSTALL_DIR).await.map_err(|_| ServiceError::NoPostgres)?;
    let mut best: Option<(u32, PathBuf)> = None;
    while let Ok(Some(entry)) = entries.next_entry().await {
        let Some(major) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else {
            continue;
        };
        let bin = entry.path().join("bin");
        if tokio::fs::try_exists(bin.join("postgres")).await.unwrap_or(false)
            && best.as_ref().is_none_or(|(newest, _)| major > *newest)
        {
            best = Some((major, bin));
        }
    }
    best.map(|(_, bin)| bin).ok_or(ServiceError::NoPostgres)
}

/// The uid and gid of the `postgres` user (`getent`, so NSS users count too).
async fn postgres_user() -> Result<(u32, u32), ServiceError> {
    let output = exec::run(&Step::new(["getent", "passwd", "postgres"]))
        .await
        .map_err(|_| ServiceError::NoUser { user: "postgres" })?;
    passwd_ids(&String::from_utf8_lossy(&output.stdout)).ok_or(ServiceError::NoUser { user: "postgres" })
}

/// The uid and gid of a `passwd` line (`name:x:uid:gid:…`).
fn passwd_ids(line: &str) -> Option<(u32, u32)> {
    let mut fields = line.trim().split(':').skip(2);
    let uid = fields.next()?.parse().ok()?;
    let gid = fields.next()?.parse().ok()?;
    Some((uid, gid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_lines_give_uid_and_gid() {
        let line = "postgres:x:101:104:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash\n";
        assert_eq!(passwd_ids(line), Some((101, 104)));
        assert_eq!(passwd_ids("postgres:x:abc:104::/:/bin/sh"), None);
        assert_eq!(passwd_ids(""), None);
    }
}
