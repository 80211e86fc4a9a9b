//! A real `continuum serve` child process on a loopback port, and a minimal blocking HTTP
//! client, for the black-box tests of the binary.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Read, Write as _};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

pub mod edge;
pub mod relay;
pub mod replicated;

/// `continuum` without any `CONTINUUM_*` variable of the test run's environment.
pub fn continuum() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_continuum"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CONTINUUM_") || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    command
}

pub fn path(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// A running `continuum serve`; everything it prints is kept.
pub struct Server {
    /// `None` for a server this test did not start (see [`Server::at`]).
    child: Option<Child>,
    pub addr: String,
    pub output: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl Server {
    /// Starts `continuum serve --listen 127.0.0.1:0` with `args` and `env`, and waits for the
    /// line that names the bound address.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::start_at("127.0.0.1:0", args, env)
    }

    /// Like [`Server::start`], on `listen` (e.g. a killed node's address, to restart it).
    pub fn start_at(listen: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::spawn(&[&["serve", "--listen", listen], args].concat(), env)
    }

    /// Starts `continuum <args>` (a command that logs `listening … addr=<addr>` and answers
    /// `/readyz`, as `serve` and `gateway` do) with `env`, and waits until it is ready.
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut command = continuum();
        command.args(args).env("CONTINUUM_LOG", "info");
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child =
            command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("continuum serve starts");
        let output = Arc::new(Mutex::new(String::new()));
        let (lines, listening) = mpsc::channel();
        let readers = vec![
            collect(child.stdout.take().unwrap(), Arc::clone(&output), lines.clone()),
            collect(child.stderr.take().unwrap(), Arc::clone(&output), lines),
        ];
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match listening.recv_timeout(remaining) {
                Ok(line) if line.contains("listening") => {
                    let addr = line.split_whitespace().find_map(|field| field.strip_prefix("addr="));
                    break addr.expect("the listening line names the address").to_owned();
                }
                Ok(_) => {}
                Err(_) => {
                    let _ = child.kill();
                    panic!("serve did not report its address: {}", output.lock().unwrap());
                }
            }
        };
        let server = Server { child: Some(child), addr, output, readers };
        server.wait_ready(deadline);
        server
    }

    /// Polls `/readyz` until it answers 200: the socket is bound before the store is open and
    /// the key file written, and requests wait in the backlog until then.
    fn wait_ready(&self, deadline: Instant) {
        use std::io::Write as _;
        while Instant::now() < deadline {
            if let Ok(mut stream) = std::net::TcpStream::connect(&self.addr) {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let request =
                    format!("GET /readyz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.addr);
                let mut answer = String::new();
                if stream.write_all(request.as_bytes()).is_ok()
                    && stream.read_to_string(&mut answer).is_ok()
                    && answer.starts_with("HTTP/1.1 200")
                {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("serve did not become ready: {}", self.output.lock().unwrap());
    }

    /// A server someone else runs at `addr` (e.g. nginx), for its request helpers.
    pub fn at(addr: String) -> Server {
        Server { child: None, addr, output: Arc::default(), readers: Vec::new() }
    }

    fn child(&mut self) -> &mut Child {
        self.child.as_mut().expect("a server this test started")
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGTERM, then waits for a graceful exit; returns the exit status and all output.
    pub fn stop(mut self) -> (ExitStatus, String) {
        let pid = self.child().id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child().try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child().kill();
                panic!("serve did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        let output = self.output.lock().unwrap().clone();
        (status, output)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Only when a test failed half-way: never leave a server behind.
        if let Some(child) = &mut self.child
            && let Ok(None) = child.try_wait()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn collect(
    stream: impl Read + Send + 'static,
    output: Arc<Mutex<String>>,
    lines: mpsc::Sender<String>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            output.lock().unwrap().push_str(&format!("{line}\n"));
            let _ = lines.send(line);
        }
    })
}

impl Server {
    /// SIGKILL: the process dies at once, with no chance to flush or say goodbye. Takes `&self`
    /// so that threads still sending requests can share the server.
    pub fn kill_now(&self) {
        let pid = self.child.as_ref().expect("a server this test started").id().to_string();
        let sent = Command::new("kill").args(["-KILL", &pid]).status().expect("kill runs");
        assert!(sent.success());
    }

    /// Sends `signal` (`STOP`, `CONT`, …) to the process: SIGSTOP freezes it without closing
    /// a socket, as a stalled machine would.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("a server this test started").id().to_string();
        let sent = Command::new("kill").args([&format!("-{signal}"), &pid]).status().expect("kill runs");
        assert!(sent.success());
    }

    /// SIGKILL, then waits until the process is gone (its sockets closed by the kernel).
    pub fn kill_and_reap(mut self) {
        self.kill_now();
        let _ = self.child().wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }

    /// One HTTP/1.1 request with `headers` and an optional JSON body; the status and the JSON
    /// answer (`Value::Null` when the body is empty or not JSON).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> (u16, Value) {
        self.try_request(method, path, headers, body).expect("the server answers")
    }

    /// Like [`Server::request`], `None` when the connection fails or breaks before an answer.
    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Option<(u16, Value)> {
        let body = body.map(|body| body.to_string()).unwrap_or_default();
        let (status, _, text) = self.try_raw(method, path, headers, &body)?;
        Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// One HTTP/1.1 request with a JSON `body` (none when empty); the status, the header block
    /// and the body as text, `None` when the connection fails or breaks before an answer.
    pub fn try_raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Option<(u16, String, String)> {
        let mut stream = std::net::TcpStream::connect(&self.addr).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.addr);
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() {
            request
                .push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        let status = answer.get(9..12)?.parse().ok()?;
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        Some((status, head.to_owned(), body.to_owned()))
    }

    /// The value of the Prometheus sample `name{labels}` (labels exactly as rendered), 0 when
    /// absent.
    pub fn metric(&self, sample: &str) -> f64 {
        let (status, _, text) = self.try_raw("GET", "/metrics", &[], "").expect("metrics answer");
        assert_eq!(status, 200, "{text}");
        text.lines()
            .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.split(' ').next()?.parse().ok())
            .unwrap_or(0.0)
    }
}
