//! A private `redis-server` on a free loopback port, killed when dropped: for tests that need a
//! server nobody else uses (counting commands) and for the cluster's nodes.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` child process with its own directory, persistence off.
pub struct RedisProcess {
    /// The port it listens on, on 127.0.0.1.
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl RedisProcess {
    /// Starts `redis-server` on a free port with `extra` arguments and waits until it answers
    /// `PING`. Panics with a clear message when `redis-server` is not installed: the tests
    /// fail rather than skip.
    pub fn start(extra: &[&str]) -> Self {
        let mut last_error = String::new();
        for _ in 0..10 {
            let port = free_port();
            let dir = tempfile::tempdir().expect("temporary directory for redis-server");
            let mut child = spawn(port, dir.path(), extra);
            match wait_until_ready(port, &mut child) {
                Ok(()) => return Self { port, child, dir },
                Err(error) => {
                    last_error = error;
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        panic!("could not start a private redis-server: {last_error}");
    }

    /// Starts `redis-server` on `port` (one that was just freed, to restart a server), or
    /// panics.
    pub fn start_on(port: u16, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory for redis-server");
        let mut child = spawn(port, dir.path(), extra);
        match wait_until_ready(port, &mut child) {
            Ok(()) => Self { port, child, dir },
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("could not start redis-server on port {port}: {error}");
            }
        }
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The server's directory (its `nodes.conf` on a cluster).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A blocking connection, for checks from the test.
    pub fn connect(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|client| client.get_connection_with_timeout(Duration::from_secs(5)))
            .expect("connect to the private redis-server")
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(port: u16, dir: &Path, extra: &[&str]) -> Child {
    let port_text = port.to_string();
    let mut args = vec!["--port", &port_text, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    args.extend_from_slice(extra);
    Command::new("redis-server")
        .args(&args)
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run redis-server ({error}); install it (Debian: apt-get install redis-server) \
                 — the Redis store's tests need a real server and do not skip"
            )
        })
}

/// A port free on 127.0.0.1 whose cluster bus port (+10000) is free too.
fn free_port() -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
        let port = listener.local_addr().expect("local address").port();
        if port <= 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

fn wait_until_ready(port: u16, child: &mut Child) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let url = format!("redis://127.0.0.1:{port}");
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("redis-server on port {port} exited with {status}"));
        }
        let ping = redis::Client::open(url.as_str())
            .and_then(|client| client.get_connection_with_timeout(Duration::from_millis(200)))
            .and_then(|mut connection| redis::cmd("PING").query::<String>(&mut connection));
        match ping {
            Ok(_) => return Ok(()),
            Err(error) if Instant::now() > deadline => {
                return Err(format!("no PONG on port {port}: {error}"));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}
