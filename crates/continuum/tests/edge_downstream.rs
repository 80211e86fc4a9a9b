//! Documents flowing down from the origin to its edges: an origin (`continuum serve`) and one or
//! two edges (`continuum edge`) as separate processes, y-websocket clients on each.
//!
//! - An edit made by a device at the origin reaches a device on the edge, and is kept in the
//!   edge's copy without being queued back for the origin (the edge's queue holds only what its
//!   own devices wrote, and the origin applied exactly that); the downstream closes a linger
//!   after the document's last device left.
//! - Two edges of one origin: a device on one sees the edits of a device on the other.
//! - Edits at the origin while the edge's downstream is cut (silently, by a relay) reach the
//!   edge once the cut heals (the edge counts the silent socket broken first); after the origin is killed and restarted, the downstream comes
//!   back and carries the next edit.
//! - Presence crosses the tiers: devices at the origin and on two edges see each other's
//!   awareness states, and one that leaves is gone for the others.
//! - The origin's downstream route only reads, and refuses bad input with problem+json.

mod common;

#[path = "../../continuum-server/tests/common/yclient.rs"]
mod yclient;

use std::net::SocketAddr;
use std::time::Duration;

use common::edge::wait_for;
use common::relay::Relay;
use common::{Server, path};
use serde_json::{Value, json};
use yclient::YClient;

const KEY: &str = "ck_edge_downstream_test_key_0123456789abcdefghi";
const DOC: &str = "/v1/sync/user:alice/draft";
/// How long an edit may take to reach a device across the tiers (the downstream reconnects
/// within a few seconds of a cut healing: silence detection, then a backoff of at most 2 s).
const REACH: Duration = Duration::from_secs(10);

fn origin_at(listen: &str, data: &std::path::Path) -> Server {
    Server::start_at(listen, &["--dev", "--data", path(data)], &[("CONTINUUM_API_KEY", KEY)])
}

fn edge(origin: &str, data: &std::path::Path) -> Server {
    common::edge::edge(origin, data, KEY, "30", &["--downstream-linger-secs", "1"])
}

fn bearer() -> String {
    format!("Bearer {KEY}")
}

fn login(origin: &Server, principal: &str) -> String {
    let body = json!({"principal": principal});
    let (status, answer) =
        origin.request("POST", "/v1/sessions", &[("Authorization", &bearer())], Some(&body));
    assert_eq!(status, 201, "{answer}");
    answer["token"].as_str().unwrap().to_owned()
}

/// A synced device on `server`, as `token`.
async fn device(server: &Server, token: &str) -> YClient {
    let addr: SocketAddr = server.addr.parse().unwrap();
    let auth = format!("Session {token}");
    let mut client =
        YClient::connect(addr, DOC, &[("Authorization", &auth)]).await.expect("the socket opens");
    client.sync().await;
    client
}

/// Waits until `client` has `key` = `value` in the map `m`.
async fn sees(client: &mut YClient, key: &str, value: i64, within: Duration) -> bool {
    client.pump_until(|c| c.json("m")[key] == json!(value), within).await
}

/// The edge's copy has a downstream from the origin, connected.
fn downstream_up(edge: &Server) {
    wait_for("the edge's downstream", REACH, || edge.metric("continuum_edge_downstream_connected") == 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_at_the_origin_reaches_a_device_on_the_edge_and_is_not_queued_back() {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let origin = origin_at("127.0.0.1:0", dirs.0.path());
    let edge = edge(&origin.url(), dirs.1.path());
    let token = login(&origin, "alice");
    let mut on_edge = device(&edge, &token).await;
    let mut at_origin = device(&origin, &token).await;
    downstream_up(&edge);

    on_edge.set("m", "from-edge", 1).await;
    assert!(sees(&mut at_origin, "from-edge", 1, REACH).await, "replayed up: {}", at_origin.json("m"));
    for n in 0..3 {
        at_origin.set("m", &format!("origin{n}"), n).await;
    }
    assert!(sees(&mut on_edge, "origin2", 2, REACH).await, "came down: {}", on_edge.json("m"));
    assert_eq!(on_edge.json("m")["origin0"], json!(0));
    assert!(edge.metric("continuum_edge_downstream_updates_total") >= 1.0);

    // A second device on the edge is served the origin's edits from the edge's own copy.
    let second = device(&edge, &token).await;
    assert_eq!(second.json("m")["origin1"], json!(1), "{}", second.json("m"));

    // Nothing that came down went back into the queue: the edge queued its device's one edit,
    // and the origin applied exactly that.
    wait_for("the queue to drain", REACH, || {
        edge.metric("continuum_edge_queue_length") == 0.0
            && edge.metric("continuum_edge_origin_applied") >= 1.0
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        edge.metric("continuum_edge_queue_last_seq"),
        1.0,
        "only the edge device's own edit was queued"
    );
    assert_eq!(edge.metric("continuum_edge_origin_applied"), 1.0);
    assert_eq!(edge.metric("continuum_edge_queue_oldest_age_seconds"), 0.0, "nothing waits");

    // At the origin the edge is one more peer of the document, however many devices it has.
    let peers_at_origin = || {
        let (_, live) = origin.request("GET", "/v1/live/docs", &[("Authorization", &bearer())], None);
        live["docs"][0]["peers"].as_u64()
    };
    assert_eq!(peers_at_origin(), Some(2), "the origin's device and the edge's downstream");
    // The last device leaves: a linger later the downstream is gone, at the edge and the origin.
    drop((on_edge, second));
    wait_for("the downstream to let go", REACH, || {
        edge.metric("continuum_edge_downstream_docs") == 0.0
            && edge.metric("continuum_edge_downstream_connected") == 0.0
    });
    wait_for("the origin to lose the edge's peer", REACH, || peers_at_origin() == Some(1));
    drop(at_origin);
}

/// An origin, two edges of it, and a session of alice's.
struct TwoEdges {
    origin: Server,
    edge_a: Server,
    edge_b: Server,
    token: String,
    /// The three data directories, removed when dropped: bind it first, so it goes last.
    _dirs: [tempfile::TempDir; 3],
}

fn two_edges() -> TwoEdges {
    let dirs = [(); 3].map(|()| tempfile::tempdir().unwrap());
    let origin = origin_at("127.0.0.1:0", dirs[0].path());
    let (edge_a, edge_b) = (edge(&origin.url(), dirs[1].path()), edge(&origin.url(), dirs[2].path()));
    let token = login(&origin, "alice");
    TwoEdges { origin, edge_a, edge_b, token, _dirs: dirs }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_on_one_edge_sees_the_edits_of_a_device_on_another() {
    let TwoEdges { _dirs, origin: _origin, edge_a, edge_b, token } = two_edges();
    let mut on_a = device(&edge_a, &token).await;
    let mut on_b = device(&edge_b, &token).await;
    downstream_up(&edge_a);
    downstream_up(&edge_b);

    on_a.set("m", "a", 1).await;
    assert!(sees(&mut on_b, "a", 1, REACH).await, "A's edit reached B: {}", on_b.json("m"));
    on_b.set("m", "b", 2).await;
    assert!(sees(&mut on_a, "b", 2, REACH).await, "B's edit reached A: {}", on_a.json("m"));
    for (edge, name) in [(&edge_a, "A"), (&edge_b, "B")] {
        wait_for("the queue to drain", REACH, || edge.metric("continuum_edge_queue_length") == 0.0);
        assert_eq!(edge.metric("continuum_edge_queue_last_seq"), 1.0, "edge {name} queued only its own edit");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_crosses_the_tiers_and_leaves_with_its_device() {
    let TwoEdges { _dirs, origin, edge_a, edge_b, token } = two_edges();
    let mut at_origin = device(&origin, &token).await;
    let mut on_a = device(&edge_a, &token).await;
    let mut on_b = device(&edge_b, &token).await;
    downstream_up(&edge_a);
    downstream_up(&edge_b);

    at_origin.announce(11, 1, r#"{"device":"origin"}"#).await;
    on_a.announce(12, 1, r#"{"device":"a"}"#).await;
    on_b.announce(13, 1, r#"{"device":"b"}"#).await;
    let devices = [
        (&mut at_origin, "origin", [12, 13]),
        (&mut on_a, "edge A", [11, 13]),
        (&mut on_b, "edge B", [11, 12]),
    ];
    for (client, name, others) in devices {
        let all = |c: &YClient| others.iter().all(|id| c.awareness.contains_key(id));
        assert!(client.pump_until(all, REACH).await, "the device at {name} sees: {:?}", client.awareness);
    }
    assert_eq!(on_b.awareness[&12], r#"{"device":"a"}"#, "edge to edge, through the origin");

    // A state changed on one edge reaches the others; a device that leaves is gone for them.
    on_a.announce(12, 2, r#"{"device":"a","step":2}"#).await;
    let changed = |c: &YClient| c.awareness.get(&12).is_some_and(|state| state.contains("step"));
    assert!(at_origin.pump_until(changed, REACH).await, "{:?}", at_origin.awareness);
    drop(on_a);
    for (client, name, other) in [(&mut at_origin, "origin", 13), (&mut on_b, "edge B", 11)] {
        let gone = |c: &YClient| !c.awareness.contains_key(&12) && c.awareness.contains_key(&other);
        assert!(client.pump_until(gone, REACH).await, "at {name}, still: {:?}", client.awareness);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_made_while_the_downstream_is_cut_arrive_once_it_is_back() {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let origin = origin_at("127.0.0.1:0", dirs.0.path());
    let origin_addr = origin.addr.clone();
    let relay = Relay::start(&origin.addr);
    let edge = edge(&relay.url(), dirs.1.path());
    let token = login(&origin, "alice");
    let mut on_edge = device(&edge, &token).await;
    let mut at_origin = device(&origin, &token).await;
    downstream_up(&edge);
    at_origin.set("m", "before", 0).await;
    assert!(sees(&mut on_edge, "before", 0, REACH).await);

    // Cut without a FIN: only silence. The edits made meanwhile do not reach the edge…
    relay.cut();
    for n in 1..=3 {
        at_origin.set("m", &format!("cut{n}"), n).await;
    }
    assert!(
        !sees(&mut on_edge, "cut3", 3, Duration::from_secs(1)).await,
        "the cut holds: {}",
        on_edge.json("m")
    );
    // The edge tells the silence from a quiet document (no pong to its pings) and retries.
    wait_for("the silent downstream to count as broken", REACH, || {
        edge.metric("continuum_edge_downstream_connected") == 0.0
            && edge.metric("continuum_edge_downstream_errors_total") >= 1.0
    });
    // …until the cut heals: the downstream reconnects and its step 1/2 catches up.
    relay.heal();
    assert!(sees(&mut on_edge, "cut3", 3, REACH).await, "caught up: {}", on_edge.json("m"));
    assert_eq!((on_edge.json("m")["cut1"].clone(), on_edge.json("m")["cut2"].clone()), (json!(1), json!(2)));
    assert!(edge.metric("continuum_edge_downstream_connects_total") >= 2.0);

    // The origin is killed and restarted at its address: the downstream comes back.
    drop(at_origin);
    origin.kill_and_reap();
    let origin = origin_at(&origin_addr, dirs.0.path());
    let mut at_origin = device(&origin, &token).await;
    assert_eq!(at_origin.json("m")["cut3"], json!(3), "the origin kept its document");
    at_origin.set("m", "after-restart", 4).await;
    assert!(sees(&mut on_edge, "after-restart", 4, REACH).await, "after the restart: {}", on_edge.json("m"));
    assert_eq!(edge.metric("continuum_edge_queue_last_seq"), 0.0, "the edge's device wrote nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_downstream_route_only_reads_and_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin_at("127.0.0.1:0", dir.path());
    let token = login(&origin, "alice");
    let mut at_origin = device(&origin, &token).await;
    at_origin.set("m", "kept", 1).await;

    let addr: SocketAddr = origin.addr.parse().unwrap();
    let route = "/v1/edge/sync/user:alice/draft";
    let mut downstream =
        YClient::connect(addr, route, &[("Authorization", &bearer())]).await.expect("a backend key opens it");
    downstream.sync().await;
    assert!(sees(&mut downstream, "kept", 1, REACH).await, "it reads the document");
    at_origin.set("m", "later", 2).await;
    assert!(sees(&mut downstream, "later", 2, REACH).await, "and what changes after");
    downstream.set("m", "kept", 99).await;
    let closed = downstream.wait_closed(REACH).await.expect("an update closes it");
    assert_eq!(closed.map(|frame| u16::from(frame.code)), Some(1008));
    assert!(!sees(&mut at_origin, "kept", 99, Duration::from_millis(500)).await, "nothing of it applied");

    let session = format!("Session {token}");
    let refused = YClient::connect(addr, route, &[("Authorization", &session)]).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = refused else {
        panic!("a session cannot open an edge's downstream")
    };
    assert_eq!(response.status(), 401);
    for (path, auth, status) in [
        ("/v1/edge/sync/nobody/draft", bearer(), 400),
        ("/v1/edge/sync/user:alice/.hidden", bearer(), 400),
        ("/v1/edge/sync/user:alice/draft", bearer(), 426),
        ("/v1/edge/sync/user:alice/draft", String::new(), 401),
    ] {
        let headers: Vec<(&str, &str)> = match auth.is_empty() {
            true => vec![],
            false => vec![("Authorization", &auth)],
        };
        let (got, head, body) = origin.try_raw("GET", path, &headers, "").expect("an answer");
        let problem: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        assert_eq!((got, problem["status"].as_u64()), (status, Some(status as u64)), "{path}: {body}");
        assert!(head.to_ascii_lowercase().contains("application/problem+json"), "{path}: {head}");
    }
}
