//! Five `continuum serve --store replicated --replicas 1` processes; two are SIGKILLed at the
//! same moment, so the sessions whose two owners were exactly those two have no copy left. The
//! survivors say so rather than silently answering 401: `/readyz` is `degraded` and counts them,
//! `/v1/events` carries a `data_lost` event with the count, and `/metrics` has it; validating a
//! lost session answers 503 (unavailable), never 401 as if it had never existed.

mod common;

use std::io::{Read as _, Write as _};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::Server;
use common::replicated::{node_id, start_nodes};
use continuum_core::{Placement, PlacementKey, SessionId};
use serde_json::{Value, json};

const KEY: &str = "ck_replicated_loss_key_0123456789abcdefghijk";

/// Reads `GET /v1/events` from `node` on a thread and sends on every `data_lost` event's data.
fn data_lost_events(node: &Server) -> mpsc::Receiver<Value> {
    let mut stream =
        std::net::TcpStream::connect(node.url().trim_start_matches("http://")).expect("connects");
    let request = format!("GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("asks");
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let (sender, events) = mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        let mut buffer = [0u8; 4096];
        while let Ok(n @ 1..) = stream.read(&mut buffer) {
            seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
            while let Some(at) = seen.find("event: data_lost\n") {
                let rest = &seen[at..];
                let Some(end) = rest.find("\n\n") else { break };
                let data = rest[..end].lines().find_map(|line| line.strip_prefix("data: ")).unwrap_or("null");
                let _ = sender.send(serde_json::from_str(data).unwrap_or(Value::Null));
                seen = rest[end..].to_owned();
            }
        }
    });
    events
}

#[test]
fn survivors_count_and_report_the_sessions_two_lost_owners_took_with_them() {
    let dirs: Vec<_> = (0..5).map(|_| tempfile::tempdir().unwrap()).collect();
    let nodes = start_nodes(&dirs, KEY);
    let auth = format!("Bearer {KEY}");
    let mut sids = Vec::new();
    let mut tokens = Vec::new();
    for i in 0..150 {
        let body = json!({"principal": format!("user-{i}")});
        let (status, created) =
            nodes[0].request("POST", "/v1/sessions", &[("authorization", &auth)], Some(&body));
        assert_eq!(status, 201, "{created}");
        sids.push(created["session"]["sid"].as_str().unwrap().parse::<SessionId>().unwrap());
        tokens.push(created["token"].as_str().unwrap().to_owned());
    }
    let placement = Placement::new((0..5).map(node_id));
    let lost_with_both = |sid: &SessionId| {
        let owners = placement.owners(&PlacementKey::session(sid), 1);
        owners.contains(&"node-1") && owners.contains(&"node-2")
    };
    let expected = sids.iter().filter(|sid| lost_with_both(sid)).count() as f64;
    assert!(expected >= 3.0, "the test needs sessions owned by exactly node-1 and node-2 ({expected})");
    // Each node counts what it is the primary of every second and gossips it; wait until the
    // counts of all five reached the node the test watches.
    let deadline = Instant::now() + Duration::from_secs(20);
    while nodes[0].metric("continuum_replication_cluster_sessions") < 150.0 {
        assert!(Instant::now() < deadline, "the nodes did not count their sessions");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (status, ready) = nodes[0].request("GET", "/readyz", &[], None);
    assert_eq!((status, ready["status"].as_str()), (200, Some("ready")));
    let events = data_lost_events(&nodes[0]);

    nodes[1].kill_now();
    nodes[2].kill_now();

    let deadline = Instant::now() + Duration::from_secs(30);
    let ready = loop {
        let (status, ready) = nodes[0].request("GET", "/readyz", &[], None);
        assert_eq!(status, 200, "the survivors keep serving: {ready}");
        if ready["status"] == "degraded" {
            break ready;
        }
        assert!(Instant::now() < deadline, "no survivor said anything was lost: {ready}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(ready["unavailable"]["sessions"].as_f64(), Some(expected), "{ready}");
    assert_eq!(ready["unavailable"]["nodes"], json!(["node-1", "node-2"]), "{ready}");
    let event = events.recv_timeout(Duration::from_secs(10)).expect("a data_lost event on /v1/events");
    assert_eq!(event["sessions"].as_f64(), Some(expected), "{event}");
    assert_eq!(event["nodes"], json!(["node-1", "node-2"]), "{event}");
    // Each survivor says so once its own failure detector has seen both go.
    for survivor in [&nodes[0], &nodes[3], &nodes[4]] {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let unavailable = survivor.metric("continuum_replication_unavailable_sessions");
            if unavailable == expected {
                break;
            }
            assert!(unavailable == 0.0 && Instant::now() < deadline, "a survivor counts {unavailable}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    // A lost session is unavailable, not unknown; every other one is still valid.
    for (sid, token) in sids.iter().zip(&tokens) {
        let body = json!({"token": token});
        let (status, answer) =
            nodes[3].request("POST", "/v1/sessions/validate", &[("authorization", &auth)], Some(&body));
        match lost_with_both(sid) {
            true => assert_eq!(status, 503, "a lost session: {answer}"),
            false => assert_eq!(status, 200, "a session with a surviving owner: {answer}"),
        }
    }
}
