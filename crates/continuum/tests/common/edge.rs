//! A `continuum edge` child process in front of an origin, and waiting for what it does.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{Server, path};

/// `continuum edge --dev` on a free loopback port in front of `origin`, keeping its data in
/// `data`, holding the origin's API key `key`, with the event stream's cap at `cap_secs` and
/// any `extra` flags.
pub fn edge(origin: &str, data: &Path, key: &str, cap_secs: &str, extra: &[&str]) -> Server {
    let base = [
        "edge",
        "--listen",
        "127.0.0.1:0",
        "--origin",
        origin,
        "--data",
        path(data),
        "--dev",
        "--stream-cap-secs",
        cap_secs,
    ];
    Server::spawn(&[&base[..], extra].concat(), &[("CONTINUUM_ORIGIN_API_KEY", key)])
}

/// Waits until `done`, polling every 20 ms, failing the test after `within`.
pub fn wait_for(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
