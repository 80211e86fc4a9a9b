//! `continuum serve --fault-mode` (hidden; only in builds with the feature `fault-modes`) over
//! real processes: each mode breaks the node as the fault suite's checker expects, and a build
//! without the feature refuses the flag and the variable.

mod common;

#[cfg(not(feature = "fault-modes"))]
use common::{continuum, path};

const KEY: &str = "ck_fault_modes_test_key_0123456789abcdef";

/// The modes, in a build that has them.
#[cfg(feature = "fault-modes")]
mod broken {
    use serde_json::{Value, json};

    use super::KEY;
    use super::common::{Server, continuum, path};

    fn auth() -> String {
        format!("Bearer {KEY}")
    }

    fn create(server: &Server) -> (String, String) {
        let ask = json!({"principal": "alice"});
        let (status, created) =
            server.request("POST", "/v1/sessions", &[("authorization", &auth())], Some(&ask));
        assert_eq!(status, 201, "{created}");
        (
            created["session"]["sid"].as_str().unwrap().to_owned(),
            created["token"].as_str().unwrap().to_owned(),
        )
    }

    fn validate(server: &Server, token: &str) -> (u16, Value) {
        let body = json!({"token": token});
        server.request("POST", "/v1/sessions/validate", &[("authorization", &auth())], Some(&body))
    }

    #[test]
    fn ignore_revocations_keeps_validating_a_revoked_session() {
        let dir = tempfile::tempdir().unwrap();
        let env = [("CONTINUUM_API_KEY", KEY), ("CONTINUUM_TEST_FAULT_MODE", "ignore-revocations")];
        let server = Server::start(&["--data", path(dir.path()), "--memory"], &env);
        let (sid, token) = create(&server);
        assert_eq!(validate(&server, &token).0, 200);
        let (status, revoked) =
            server.request("DELETE", &format!("/v1/sessions/{sid}"), &[("authorization", &auth())], None);
        assert_eq!(status, 204, "{revoked}");
        let (status, answer) = validate(&server, &token);
        assert_eq!(status, 200, "a revoked session still validates on this node: {answer}");
        assert_eq!(answer["session"]["status"], "active", "{answer}");
        let (status, output) = server.stop();
        assert!(status.success(), "{output}");
        assert!(
            output.contains("ERROR")
                && output
                    .contains("fault mode ignore-revocations: this node is deliberately broken (tests only)"),
            "{output}"
        );
        assert!(!output.contains("does not know"), "the variable is not reported as unknown:\n{output}");
    }

    #[test]
    fn ack_before_write_loses_what_it_acknowledged_less_than_the_delay_before_a_sigkill() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let env = [("CONTINUUM_API_KEY", KEY)];
        let broken = Server::start(&["--data", path(&data), "--fault-mode", "ack-before-write"], &env);
        let (_, applied) = create(&broken);
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let (_, lost) = create(&broken);
        // Within the window (500 ms) of the last answer.
        broken.kill_and_reap();
        let healthy = Server::start(&["--data", path(&data)], &env);
        assert_eq!(validate(&healthy, &applied).0, 200, "a write older than the delay was applied");
        let (status, answer) = validate(&healthy, &lost);
        assert_eq!(status, 401, "the acknowledged session is gone after the SIGKILL: {answer}");
        let (status, output) = healthy.stop();
        assert!(status.success(), "{output}");
        assert!(!output.contains("fault mode"), "the restarted node is healthy:\n{output}");
    }

    #[test]
    fn drop_copies_without_a_replicated_store_refuses_to_start() {
        let dir = tempfile::tempdir().unwrap();
        let output = continuum()
            .args(["serve", "--listen", "127.0.0.1:0", "--memory", "--data", path(dir.path())])
            .args(["--fault-mode", "drop-copies"])
            .env("CONTINUUM_API_KEY", KEY)
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("drop-copies needs --store replicated"), "{stderr}");
    }

    #[test]
    fn an_unknown_mode_is_a_usage_error_listing_the_modes() {
        let output = continuum().args(["serve", "--fault-mode", "x"]).output().unwrap();
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("ack-before-write, drop-copies, ignore-revocations"), "{stderr}");
    }
}

#[cfg(not(feature = "fault-modes"))]
#[test]
fn without_the_feature_the_flag_is_unknown_and_the_variable_stops_serve() {
    let output = continuum().args(["serve", "--fault-mode", "ack-before-write"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unexpected argument '--fault-mode'"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let output = continuum()
        .args(["serve", "--listen", "127.0.0.1:0", "--memory", "--data", path(dir.path())])
        .env("CONTINUUM_TEST_FAULT_MODE", "ack-before-write")
        .env("CONTINUUM_API_KEY", KEY)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("CONTINUUM_TEST_FAULT_MODE") && stderr.contains("this build has none"),
        "{stderr}"
    );
}
