//! `continuum serve --clock-skew-ms` (hidden, tests only) over real processes sharing one
//! store in turn: a node whose clock runs two hours ahead judges a session another node
//! created with a one-hour idle timeout as expired; one running a minute behind does not.

mod common;

use common::{Server, path};
use serde_json::{Value, json};

const KEY: &str = "ck_clock_skew_test_key_0123456789abcdef";

fn start(data: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Server {
    let args = [&["--data", path(data)], args].concat();
    Server::start(&args, &[&[("CONTINUUM_API_KEY", KEY)], env].concat())
}

fn validate(server: &Server, token: &str) -> (u16, Value) {
    let auth = format!("Bearer {KEY}");
    server.request(
        "POST",
        "/v1/sessions/validate",
        &[("authorization", &auth)],
        Some(&json!({"token": token})),
    )
}

#[test]
fn a_node_two_hours_ahead_finds_a_one_hour_session_expired() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let healthy = start(&data, &[], &[]);
    let auth = format!("Bearer {KEY}");
    let ask = json!({"principal": "alice", "idle_timeout_secs": 3600});
    let (status, created) = healthy.request("POST", "/v1/sessions", &[("authorization", &auth)], Some(&ask));
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(validate(&healthy, &token).0, 200, "live on the node that created it");
    let (status, output) = healthy.stop();
    assert!(status.success(), "{output}");
    assert!(!output.contains("clock skew"), "no skew, no warning:\n{output}");

    let behind = start(&data, &["--clock-skew-ms", "-60000"], &[]);
    let (status, answer) = validate(&behind, &token);
    assert_eq!(status, 200, "a minute behind, the session is live: {answer}");
    let (status, output) = behind.stop();
    assert!(status.success(), "{output}");
    assert!(output.contains("WARN") && output.contains("clock skew -60000 ms"), "{output}");

    let ahead = start(&data, &[], &[("CONTINUUM_TEST_CLOCK_SKEW_MS", "7200000")]);
    let (status, answer) = validate(&ahead, &token);
    assert_eq!(status, 401, "{answer}");
    // Refused as expired, or already purged as expired by the sweep this node runs at start
    // (a session is purged only past its purge time: seconds old, it is not, but on this clock).
    let detail = answer["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("expired") || detail.contains("not recognised"), "{answer}");
    let (status, output) = ahead.stop();
    assert!(status.success(), "{output}");
    assert!(output.contains("WARN") && output.contains("clock skew 7200000 ms"), "{output}");
    assert!(!output.contains("does not know"), "the variable is not reported as unknown:\n{output}");
}
