//! `continuum serve` as a real child process on a loopback port, driven by the `continuum
//! sessions` commands, the way an operator would use them.

use std::io::{BufRead as _, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// `continuum` without any `CONTINUUM_*` variable of the test run's environment.
fn continuum() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_continuum"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CONTINUUM_") || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    command
}

fn path(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// A running `continuum serve`; everything it prints is kept.
struct Server {
    child: Child,
    addr: String,
    output: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl Server {
    /// Starts `continuum serve --listen 127.0.0.1:0` with `args` and `env`, and waits for the
    /// line that names the bound address.
    fn start(args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut command = continuum();
        command.args(["serve", "--listen", "127.0.0.1:0"]).args(args).env("CONTINUUM_LOG", "info");
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
        let server = Server { child, addr, output, readers };
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

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGTERM, then waits for a graceful exit; returns the exit status and all output.
    fn stop(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
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
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
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

/// Runs `continuum sessions` against `server`, with `key_args` saying where the key comes from.
fn sessions(server: &Server, key_args: &[&str], args: &[&str]) -> Output {
    continuum()
        .args(["sessions", "--server", &server.url()])
        .args(key_args)
        .args(args)
        .output()
        .expect("continuum sessions runs")
}

fn json(output: &Output) -> Value {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("sessions prints JSON")
}

#[test]
fn first_start_writes_a_private_key_file_and_the_cli_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&["--data", path(&data)], &[]);

    let key_file = data.join("api-keys");
    let metadata = std::fs::metadata(&key_file).expect("the key file exists once serve is ready");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(metadata.permissions().mode() & 0o777, 0o600, "the key file is private");
    }
    let key = std::fs::read_to_string(&key_file).unwrap().trim().to_owned();
    assert!(key.starts_with("ck_"), "{key}");
    let by_data = ["--data", path(&data)];

    let created = json(&sessions(
        &server,
        &by_data,
        &["create", "--principal", "alice", "--label", "laptop", "--idle", "600", "--attr", "plan=\"pro\""],
    ));
    let token = created["token"].as_str().expect("create prints the token");
    let sid = created["session"]["sid"].as_str().unwrap().to_owned();
    assert!(token.starts_with(&format!("{sid}.")), "the token is <sid>.<secret>: {token}");
    assert_eq!(created["session"]["principal"], "alice");
    assert_eq!(created["session"]["device"]["label"], "laptop");
    assert_eq!(created["session"]["attributes"]["plan"], "pro");
    assert_eq!(created["session"]["idle_timeout_secs"], 600);
    assert_eq!(created["session"]["status"], "active");

    let fetched = json(&sessions(&server, &by_data, &["get", &sid]));
    assert_eq!(fetched["session"], created["session"]);
    assert!(fetched.get("token").is_none(), "the secret is shown only at creation");

    let second = json(&sessions(&server, &by_data, &["create", "--principal", "alice"]));
    let listed = json(&sessions(&server, &by_data, &["list", "alice"]));
    let mut sids: Vec<&str> =
        listed["sessions"].as_array().unwrap().iter().map(|s| s["sid"].as_str().unwrap()).collect();
    sids.sort_unstable();
    let mut expected = vec![sid.as_str(), second["session"]["sid"].as_str().unwrap()];
    expected.sort_unstable();
    assert_eq!(sids, expected);

    let revoked = json(&sessions(&server, &by_data, &["revoke", &sid]));
    assert_eq!(revoked, serde_json::json!({ "revoked": sid }));
    let after = sessions(&server, &by_data, &["get", &sid]);
    if after.status.success() {
        assert_eq!(json(&after)["session"]["status"], "revoked");
    } else {
        let message = String::from_utf8_lossy(&after.stderr);
        assert!(message.contains("404") || message.contains("410"), "{message}");
    }

    let unknown = sessions(&server, &by_data, &["get", "AAAAAAAAAAAAAAAAAAAAAA"]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("404"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );

    let (status, output) = server.stop();
    assert!(status.success(), "serve exits cleanly on SIGTERM: {status:?}\n{output}");
    assert!(output.contains(path(&key_file)), "the key file's path is logged:\n{output}");
    assert!(!output.contains(&key), "the key itself is never printed");
    assert!(!output.contains(token.split('.').nth(1).unwrap()), "nor a session secret");
}

#[test]
fn configured_keys_are_used_and_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = "ck_test_0123456789abcdef";
    let server = Server::start(&["--data", path(&data), "--memory"], &[("CONTINUUM_API_KEY", key)]);
    assert!(!data.join("api-keys").exists(), "no key file when keys are configured");

    let created = json(&sessions(&server, &["--api-key", key], &["create"]));
    assert!(created["session"]["principal"].as_str().unwrap().starts_with("anon:"));

    let refused = sessions(&server, &["--api-key", "ck_wrong_0123456789abcdef"], &["list", "alice"]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("401"), "{message}");

    let (status, output) = server.stop();
    assert!(status.success(), "{output}");
    assert!(!output.contains(key));
}
