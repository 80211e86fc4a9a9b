//! The command line as a user meets it: `--help` snapshots, configuration errors, `keys`.

use std::path::Path;
use std::process::{Command, Output};

/// `continuum` with no `CONTINUUM_*` variable from the environment of the test run, so that help
/// texts and defaults are the same on every machine.
fn continuum() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_continuum"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CONTINUUM_") || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    command
}

fn run(args: &[&str]) -> Output {
    continuum().args(args).output().expect("the continuum binary runs")
}

fn help(args: &[&str]) -> String {
    let output = run(args);
    assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("help is UTF-8")
}

#[test]
fn help_continuum() {
    insta::assert_snapshot!(help(&["--help"]));
}

#[test]
fn help_serve() {
    insta::assert_snapshot!(help(&["serve", "--help"]));
}

#[test]
fn help_gateway() {
    insta::assert_snapshot!(help(&["gateway", "--help"]));
}

#[test]
fn help_edge() {
    insta::assert_snapshot!(help(&["edge", "--help"]));
}

#[test]
fn help_sessions() {
    insta::assert_snapshot!(help(&["sessions", "--help"]));
}

#[test]
fn help_sessions_create() {
    insta::assert_snapshot!(help(&["sessions", "create", "--help"]));
}

#[test]
fn help_keys() {
    insta::assert_snapshot!(help(&["keys", "--help"]));
}

#[test]
fn help_bench() {
    insta::assert_snapshot!(help(&["bench", "--help"]));
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn an_unknown_config_key_stops_serve_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("continuum.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\n\n[sessions]\nidle_timeout = 60\n").unwrap();
    let data = dir.path().join("data");
    let output = run(&["serve", "--config", path(&config), "--data", path(&data)]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("unknown field `idle_timeout`"), "{message}");
    assert!(message.contains(path(&config)), "the message names the file: {message}");
    assert!(!data.exists(), "nothing was created before the configuration was checked");
}

#[test]
fn a_bad_environment_value_stops_serve_with_the_variable_name() {
    let dir = tempfile::tempdir().unwrap();
    let output = continuum()
        .args(["serve", "--listen", "127.0.0.1:0", "--data", path(dir.path())])
        .env("CONTINUUM_SESSIONS_TOUCH_FRACTION", "often")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(stderr(&output).contains("CONTINUUM_SESSIONS_TOUCH_FRACTION"), "{}", stderr(&output));
}

#[test]
fn an_unreachable_store_stops_serve_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = "postgres://postgres:s3cret@127.0.0.1:1/test?connect_timeout=2";
    let output = run(&["serve", "--listen", "127.0.0.1:0", "--data", path(dir.path()), "--store", store]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("error: the server failed: cannot open the store"), "{message}");
    assert!(!message.contains("s3cret"), "the password never shows: {message}");
}

#[test]
fn keys_new_prints_the_key_and_path_prints_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(&["keys", "new", "--data", path(dir.path())]);
    assert!(output.status.success(), "{}", stderr(&output));
    let key = String::from_utf8(output.stdout.clone()).unwrap();
    let key = key.trim();
    assert!(key.starts_with("ck_") && key.len() > 40, "{key}");
    let file = dir.path().join("api-keys");
    assert!(stderr(&output).contains(path(&file)));
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), key);

    let output = run(&["keys", "--data", path(dir.path()), "path"]);
    assert_eq!(String::from_utf8(output.stdout).unwrap().trim(), path(&file));
}

#[test]
fn keys_sealing_rotates_lists_and_retires_by_id_without_printing_keys() {
    let dir = tempfile::tempdir().unwrap();
    let data = path(dir.path());
    let output = run(&["keys", "sealing", "list", "--data", data]);
    assert!(!output.status.success(), "no file yet");
    let rotate = |expect: bool| {
        let output = run(&["keys", "sealing", "rotate", "--data", data]);
        assert_eq!(output.status.success(), expect, "{}", stderr(&output));
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let first = rotate(true);
    let second = rotate(true);
    assert_eq!(first.len(), 8, "an id: {first}");
    let output = run(&["keys", "sealing", "list", "--data", data]);
    let listed = String::from_utf8(output.stdout).unwrap();
    assert_eq!(listed, format!("{second} (seals)\n{first}\n"));
    assert!(!listed.contains("sk_"), "ids only");
    let output = run(&["keys", "sealing", "retire", &second, "--data", data]);
    assert!(!output.status.success() && stderr(&output).contains("rotate first"), "{}", stderr(&output));
    let output = run(&["keys", "sealing", "retire", &first, "--data", data]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = run(&["keys", "sealing", "list", "--data", data]);
    assert_eq!(String::from_utf8(output.stdout).unwrap(), format!("{second} (seals)\n"));
}

#[test]
fn sessions_without_any_key_explains_where_keys_come_from() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(&["sessions", "--data", path(dir.path()), "list", "alice"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("--api-key") && message.contains("CONTINUUM_API_KEY"), "{message}");
}

#[test]
fn bench_refuses_remote_targets() {
    let output = run(&["bench", "--url", "http://192.0.2.1:7878", "--scenario", "hello"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("only targets loopback"), "{}", stderr(&output));
}

fn path(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}
