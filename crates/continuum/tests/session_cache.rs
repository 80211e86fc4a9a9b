//! `serve --session-cache` over a real Redis, two nodes as separate processes: validations on a
//! node are answered from its memory, and what is changed through the other node — a
//! revocation, an attribute patch — reaches it over the store's bus at once; with no node
//! heard on the bus for the cap, the cache stops answering and the store is asked again. A
//! cache asked of a store without a bus is refused at start.

mod common;

use std::time::{Duration, Instant};

use common::{Server, continuum, path};
use serde_json::{Value, json};

const KEY: &str = "ck_session_cache_test_key_0123456789abcdefghij";
/// How long a change through one node may take to reach the other's cache here: far below the
/// cache's TTL (30 s) and cap (2 s below), so only the push can make it in time.
const PUSH: Duration = Duration::from_millis(1500);

/// A Redis database of this test's own: the bus is one channel per database, and another
/// test's nodes on it would be heard (their heartbeats would hide a silent bus).
fn redis(db: u8) -> String {
    let base =
        std::env::var("CONTINUUM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    format!("{}/{db}", base.trim_end_matches('/'))
}

fn node(db: u8, dir: &std::path::Path) -> Server {
    let store = redis(db);
    let args = ["--data", path(dir), "--store", &store, "--session-cache", "--session-cache-cap-secs", "2"];
    Server::start(&args, &[("CONTINUUM_API_KEY", KEY)])
}

fn auth() -> String {
    format!("Bearer {KEY}")
}

fn call(server: &Server, method: &str, route: &str, body: Option<&Value>) -> (u16, Value) {
    server.request(method, route, &[("authorization", &auth())], body)
}

fn validate(server: &Server, token: &str) -> u16 {
    call(server, "POST", "/v1/sessions/validate", Some(&json!({"token": token}))).0
}

/// The first moment (within [`PUSH`]) at which `check` holds, as the time it took.
fn within_push(what: &str, mut check: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < PUSH, "{what} did not happen within {PUSH:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
    start.elapsed()
}

fn hits(server: &Server) -> f64 {
    server.metric("continuum_session_cache_hits_total")
}

fn misses(server: &Server) -> f64 {
    server.metric("continuum_session_cache_misses_total")
}

#[test]
fn a_node_validates_from_its_cache_and_hears_every_change_made_through_the_other() {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (node(7, dirs.0.path()), node(7, dirs.1.path()));
    let (status, created) = call(&b, "POST", "/v1/sessions", Some(&json!({"principal": "cache-alice"})));
    assert_eq!(status, 201, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    let sid = created["session"]["sid"].as_str().unwrap().to_owned();

    let before = (hits(&a), misses(&a));
    for _ in 0..20 {
        assert_eq!(validate(&a, &token), 200);
    }
    // The first validation reads the store; B's notice of the creation may land just after
    // and send the entry back once.
    assert!(misses(&a) - before.1 <= 2.0, "{} reads of the store", misses(&a) - before.1);
    assert!(hits(&a) - before.0 >= 18.0, "{} answers from the cache", hits(&a) - before.0);

    let (status, _) = call(&b, "PATCH", &format!("/v1/sessions/{sid}/attributes"), Some(&json!({"cart": 3})));
    assert_eq!(status, 200);
    within_push("a patch through B seen at A", || {
        call(&a, "GET", &format!("/v1/sessions/{sid}"), None).1["session"]["attributes"]["cart"] == json!(3)
    });

    assert_eq!(validate(&a, &token), 200, "cached again");
    let (status, _) = call(&b, "DELETE", &format!("/v1/sessions/{sid}"), None);
    assert_eq!(status, 204);
    let took = within_push("a revocation through B refused at A", || validate(&a, &token) == 401);
    eprintln!("revocation through B refused at A after {took:?}");
    for _ in 0..5 {
        assert_eq!(validate(&a, &token), 401, "and never valid again");
    }
    assert!(a.metric("continuum_session_cache_invalidations_total") >= 2.0);
    a.stop();
    b.stop();
}

#[test]
fn with_no_other_node_heard_for_the_cap_the_cache_asks_the_store_again() {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (node(8, dirs.0.path()), node(8, dirs.1.path()));
    let (_, created) = call(&a, "POST", "/v1/sessions", Some(&json!({"principal": "cache-bob"})));
    let token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(validate(&a, &token), 200);
    let held = misses(&a);
    assert_eq!(validate(&a, &token), 200);
    assert_eq!(misses(&a), held, "held while B's heartbeats arrive");

    // B frozen: its heartbeats stop, and A cannot tell a quiet bus from one that broke.
    b.signal("STOP");
    std::thread::sleep(Duration::from_millis(2600));
    assert_eq!(validate(&a, &token), 200);
    let after = misses(&a);
    b.signal("CONT");
    assert_eq!(after, held + 1.0, "past the cap (2 s) without a heartbeat, the store was asked");
    a.stop();
    b.stop();
}

#[test]
fn a_session_cache_without_a_shared_store_is_refused_at_start_naming_why() {
    let dir = tempfile::tempdir().unwrap();
    let output = continuum()
        .args(["serve", "--listen", "127.0.0.1:0", "--data", path(dir.path()), "--session-cache"])
        .env("CONTINUUM_API_KEY", KEY)
        .output()
        .expect("continuum runs");
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("session_cache.enabled") && said.contains("shared store"), "{said}");
}
