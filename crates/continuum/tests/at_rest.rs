//! Encryption at rest through `continuum serve` and `continuum keys data`, as an operator uses
//! them: on by default with a private key file, rotation keeps what the old key encrypted
//! readable, `--encrypt false` writes plaintext, and a lost key is a clear error.

mod common;

use std::path::Path;
use std::process::Output;

use common::{Server, continuum, path};
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    continuum().args(args).output().expect("continuum runs")
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Creates a session carrying `mark` in an attribute and in its device label; returns its sid.
fn create(server: &Server, data: &Path, mark: &str) -> String {
    let attr = format!("card=\"{mark}-attr\"");
    let label = format!("{mark}-label");
    let args = ["create", "--principal", "alice", "--label", &label, "--attr", &attr];
    let output =
        run(&[&["sessions", "--server", &server.url(), "--data", path(data)][..], &args[..]].concat());
    let created: Value = serde_json::from_str(&stdout(&output)).unwrap();
    created["session"]["sid"].as_str().unwrap().to_owned()
}

fn get(server: &Server, data: &Path, sid: &str) -> Output {
    run(&["sessions", "--server", &server.url(), "--data", path(data), "get", sid])
}

fn store_file(data: &Path) -> Vec<u8> {
    std::fs::read(data.join("continuum.redb")).unwrap()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle.as_bytes())
}

#[test]
fn on_by_default_rotated_by_the_cli_and_still_readable() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&["--data", path(&data)], &[]);
    let old = create(&server, &data, "zebra-before-rotation");
    let (status, log) = server.stop();
    assert!(status.success(), "{log}");
    let key_file = data.join("data-keys");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let key = std::fs::read_to_string(&key_file).unwrap();
    assert!(!log.contains(key.lines().last().unwrap()), "the key is never logged");
    assert!(!contains(&store_file(&data), "zebra-before-rotation"), "no attribute or label in the file");

    let listed = stdout(&run(&["keys", "data", "list", "--data", path(&data)]));
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert_eq!(stdout(&run(&["keys", "data", "path", "--data", path(&data)])).trim(), path(&key_file));
    let new_id = stdout(&run(&["keys", "data", "rotate", "--data", path(&data)])).trim().to_owned();
    let listed = stdout(&run(&["keys", "data", "list", "--data", path(&data)]));
    assert_eq!(listed.lines().next().unwrap(), format!("{new_id} (encrypts)"), "{listed}");
    assert_eq!(listed.lines().count(), 2, "the old key stays to decrypt: {listed}");

    let server = Server::start(&["--data", path(&data)], &[]);
    let fetched: Value = serde_json::from_str(&stdout(&get(&server, &data, &old))).unwrap();
    assert_eq!(fetched["session"]["attributes"]["card"], "zebra-before-rotation-attr");
    assert_eq!(fetched["session"]["device"]["label"], "zebra-before-rotation-label");
    create(&server, &data, "yak-after-rotation");
    server.stop();
    assert!(!contains(&store_file(&data), "yak-after-rotation"));
}

#[test]
fn encrypt_false_writes_plaintext_and_a_lost_key_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    let server = Server::start(&["--data", path(&plain), "--encrypt", "false"], &[]);
    create(&server, &plain, "walrus-plain");
    server.stop();
    assert!(contains(&store_file(&plain), "walrus-plain-attr"), "the search sees plaintext");
    assert!(!plain.join("data-keys").exists(), "no key file when encryption is off");

    let data = dir.path().join("data");
    let server = Server::start(&["--data", path(&data)], &[("CONTINUUM_STORAGE_ENCRYPT", "true")]);
    let sid = create(&server, &data, "otter-lost-key");
    server.stop();
    std::fs::remove_file(data.join("data-keys")).unwrap();
    let server = Server::start(&["--data", path(&data)], &[]);
    let (status, body) = server.request(
        "GET",
        &format!("/v1/sessions/{sid}"),
        &[(
            "Authorization",
            &format!("Bearer {}", std::fs::read_to_string(data.join("api-keys")).unwrap().trim()),
        )],
        None,
    );
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["status"], 500, "a problem document: {body}");
    assert!(!body.to_string().contains("otter"), "never plaintext garbage: {body}");
    let (_, log) = server.stop();
    assert!(log.contains("which this node does not hold"), "the cause is logged:\n{log}");
}

#[test]
fn a_replicated_node_encrypts_its_own_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("node");
    let cluster = loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = tcp.local_addr().unwrap();
        if std::net::UdpSocket::bind(addr).is_ok() {
            break addr.to_string();
        }
    };
    let args = [
        "--data",
        path(&data),
        "--store",
        "replicated",
        "--node-id",
        "solo",
        "--cluster-listen",
        &cluster,
        "--replicas",
        "0",
    ];
    let server = Server::start(&args, &[]);
    let sid = create(&server, &data, "heron-replicated");
    let fetched: Value = serde_json::from_str(&stdout(&get(&server, &data, &sid))).unwrap();
    assert_eq!(fetched["session"]["attributes"]["card"], "heron-replicated-attr");
    server.stop();
    assert!(data.join("data-keys").is_file(), "the node has its own key file");
    assert!(!contains(&store_file(&data), "heron-replicated"), "the node's redb holds no attribute or label");
}
