//! `continuum serve` as a real child process on a loopback port, driven by the `continuum
//! sessions` commands, the way an operator would use them.

mod common;

use std::process::Output;

use common::{Server, continuum, path};
use serde_json::Value;

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
