//! `continuum bench`'s continuity-document scenarios, and its HTTP scenarios taking turns over
//! `--rounds`, against a real `continuum serve` on a loopback port, with small counts: every
//! scenario runs end to end and reports figures that hold together.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

const KEY: &str = "ck_bench_test_0123456789abcdef";

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

/// A `continuum serve` child, killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(data: &std::path::Path) -> Server {
        let mut child = continuum()
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .env("CONTINUUM_API_KEY", KEY)
            .env("CONTINUUM_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("continuum serve starts");
        let (lines, listening) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        // Drains stderr for the server's whole life, so it never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            let line = listening
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("serve reports its address");
            if let Some(addr) = line.split_whitespace().find_map(|field| field.strip_prefix("addr=")) {
                break addr.to_owned();
            }
        };
        let server = Server { child, addr };
        while Instant::now() < deadline {
            if server.bench(&["--scenario", "hello", "--duration", "0s", "--warmup", "0s"]).status.success() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("serve did not become ready");
    }

    fn bench(&self, args: &[&str]) -> std::process::Output {
        continuum()
            .args(["bench", "--url", &format!("http://{}", self.addr)])
            .args(args)
            .env("CONTINUUM_API_KEY", KEY)
            .output()
            .expect("continuum bench runs")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The JSON objects `bench --json` printed, by scenario.
fn reports(output: &std::process::Output) -> Vec<Value> {
    assert!(output.status.success(), "bench failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect()
}

#[test]
fn document_scenarios_run_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let output = server.bench(&[
        "--scenario",
        "doc-updates,fanout,reconnect,doc-memory",
        "--json",
        "--connections",
        "20",
        "--pipeline",
        "4",
        "--duration",
        "1s",
        "--warmup",
        "200ms",
        "--sockets",
        "40",
        "--updates",
        "30",
        "--interval",
        "5ms",
        "--missed",
        "0,1,20",
        "--sessions",
        "30",
    ]);
    let reports = reports(&output);
    let names: Vec<&str> = reports.iter().map(|report| report["scenario"].as_str().unwrap()).collect();
    assert_eq!(names, ["doc-updates", "fanout", "reconnect", "doc-memory"]);
    let [updates, fanout, reconnect, memory] = reports.as_slice() else { unreachable!() };

    // 20 writers need two sessions of 16 sockets; all of them write and get acks.
    assert_eq!(updates["writers"], 20);
    assert_eq!(updates["errors"], 0, "{updates}");
    assert!(updates["updates"].as_u64().unwrap() > 0, "{updates}");
    assert!(updates["ack_latency_us"]["p50"].as_u64().unwrap() > 0);

    // Every reader got every update.
    assert_eq!((fanout["readers"].as_u64(), fanout["updates"].as_u64()), (Some(40), Some(30)));
    assert_eq!(fanout["deliveries"], 40 * 30, "{fanout}");
    assert_eq!(fanout["missed"], 0);
    assert!(fanout["latency_us"]["max"].as_u64().unwrap() < 5_000_000);

    // A reconnect receives what it missed, not the document.
    let rows = reconnect["reconnects"].as_array().unwrap();
    let bytes: Vec<u64> = rows.iter().map(|row| row["step2_bytes"].as_u64().unwrap()).collect();
    assert_eq!(bytes.len(), 3);
    let first = reconnect["first_sync_bytes"].as_u64().unwrap();
    assert!(bytes[0] < 16 && bytes[0] < bytes[1] && bytes[1] < bytes[2], "{bytes:?}");
    assert!(bytes[1] * 5 < first, "one missed update is a small part of the document: {bytes:?} vs {first}");

    assert_eq!(memory["documents"], 30, "{memory}");
    assert_eq!(memory["keys_per_document"], 20);
    assert!(memory["rss_open_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn without_json_reconnect_prints_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let output = server.bench(&["--scenario", "reconnect", "--updates", "10", "--missed", "0,5"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(lines[0].starts_with("reconnect: a document of 10 updates; first sync "), "{stdout}");
    assert!(
        lines[1]
            .split_whitespace()
            .eq(["missed", "sync", "step", "2", "vs", "first", "sync", "full", "state", "took"])
    );
    assert_eq!(lines[2].split_whitespace().next(), Some("0"));
    assert_eq!(lines[3].split_whitespace().next(), Some("5"));
}

#[test]
fn burst_reaches_every_subscriber_and_reads_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let pid = server.child.id().to_string();
    let output = server.bench(&[
        "--scenario",
        "burst",
        "--json",
        "--sockets",
        "40",
        "--updates",
        "300",
        "--connections",
        "20",
        "--server-pid",
        &pid,
    ]);
    let reports = reports(&output);
    let [burst] = reports.as_slice() else { panic!("one report: {reports:?}") };
    assert_eq!(burst["scenario"], "burst");
    assert_eq!((burst["subscribers"].as_u64(), burst["updates"].as_u64()), (Some(40), Some(300)));
    assert_eq!(burst["with_final"], 40, "{burst}");
    assert_eq!(burst["delivered_updates"], 40 * 300);
    assert!(burst["slowest_secs"].as_f64().unwrap() < 60.0);
    assert!(burst["peak_rss_bytes"].as_u64().unwrap() >= burst["rss_before_open_bytes"].as_u64().unwrap());
    assert!(burst["cpu_per_delivered_update_us"].as_f64().is_some(), "{burst}");
    // The server relayed the updates to the subscribers (and the writer got none of its own).
    assert!(burst["update_messages_out"].as_u64().unwrap() >= 40 * 300 - 40 * 300 / 10, "{burst}");
    // Every subscriber announced a state: joining and leaving cost messages, but O(N), not O(N²).
    let (joining, leaving) =
        (burst["awareness_out_joining"].as_u64().unwrap(), burst["awareness_out_leaving"].as_u64().unwrap());
    assert!(joining > 0 && joining < 40 * 40, "{burst}");
    assert!(leaving <= 2 * 41, "{burst}");
    assert_eq!(burst["leaving"], 40);
}

#[test]
fn http_scenarios_take_turns_over_rounds_and_sum_their_windows() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let output = server.bench(&[
        "--scenario",
        "hello,validate",
        "--rounds",
        "3",
        "--duration",
        "600ms",
        "--warmup",
        "0s",
        "--connections",
        "4",
        "--sessions",
        "20",
        "--json",
    ]);
    let reports = reports(&output);
    let names: Vec<&str> = reports.iter().map(|report| report["scenario"].as_str().unwrap()).collect();
    assert_eq!(names, ["hello", "validate"], "one line each, in the order given");
    for report in &reports {
        assert_eq!(report["elapsed_secs"], 0.6, "three turns of 200 ms: {report}");
        assert_eq!(report["errors"], 0, "{report}");
        let requests = report["requests"].as_u64().unwrap();
        assert!(requests > 0, "{report}");
        let rps = report["rps"].as_f64().unwrap();
        assert!((rps - requests as f64 / 0.6).abs() < 1e-6, "rate over the summed windows: {report}");
    }
    let ratio = reports[1]["relative_to_hello"].as_f64().expect("validate is compared with hello");
    let expected = reports[1]["rps"].as_f64().unwrap() / reports[0]["rps"].as_f64().unwrap();
    assert!((ratio - expected).abs() < 1e-9, "{ratio} vs {expected}");

    let refused = server.bench(&["--scenario", "hello", "--rounds", "0"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--rounds"));
}
