//! Documents through an origin outage: an origin (`continuum serve`, embedded store) and an edge
//! (`continuum edge`) as separate processes, y-websocket clients on the edge.
//!
//! - The origin is SIGKILLed while two clients edit through the edge: they keep seeing each
//!   other's edits, and each is acknowledged `edge` (type 101) once in the edge's queue. The
//!   edge is SIGKILLed and restarted mid-outage; when the origin comes back, every queue entry
//!   is applied at the origin exactly once (the origin's count for this edge equals the edge's
//!   last seq), and a device connected to the origin directly sees every acknowledged edit.
//! - A session revoked at the origin while its edge is cut off: its queued updates are refused
//!   at replay (kept out of the document, reported on the origin's `/v1/events`), the other
//!   session's are applied — and acknowledged `cloud` then — and its socket at the edge is
//!   closed.
//! - The replay route itself: a batch sent again applies nothing, a gap is refused, bad input is
//!   a 400 problem; and a batch sent again to an origin that crashed after appending it but
//!   before writing its mark applies nothing twice either.

mod common;

#[path = "../../continuum-server/tests/common/yclient.rs"]
mod yclient;

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::edge::wait_for;
use common::relay::Relay;
use common::{Server, path};
use serde_json::{Value, json};
use yclient::YClient;

const KEY: &str = "ck_edge_outage_test_key_0123456789abcdefghijklm";
const DOC: &str = "/v1/sync/user:alice/draft?acks=1";
const EDITS: usize = 10;

fn origin_at(listen: &str, data: &std::path::Path, store: &[&str]) -> Server {
    let args = [&["--dev", "--data", path(data)][..], store].concat();
    Server::start_at(listen, &args, &[("CONTINUUM_API_KEY", KEY)])
}

fn edge(origin: &str, data: &std::path::Path) -> Server {
    common::edge::edge(origin, data, KEY, "30", &[])
}

fn bearer() -> String {
    format!("Bearer {KEY}")
}

fn login(origin: &Server, principal: &str) -> (String, String) {
    let body = json!({"principal": principal});
    let (status, answer) =
        origin.request("POST", "/v1/sessions", &[("Authorization", &bearer())], Some(&body));
    assert_eq!(status, 201, "{answer}");
    (answer["session"]["sid"].as_str().unwrap().to_owned(), answer["token"].as_str().unwrap().to_owned())
}

async fn client(server: &Server, token: &str) -> YClient {
    let addr: SocketAddr = server.addr.parse().unwrap();
    let auth = format!("Session {token}");
    let mut client =
        YClient::connect(addr, DOC, &[("Authorization", &auth)]).await.expect("the socket opens");
    client.sync().await;
    client
}

/// A client on the edge, after its sync (whose step 2 reply was its first content message).
async fn writer(server: &Server, token: &str) -> Writer {
    Writer { client: client(server, token).await, sent: 1 }
}

/// A client and how many content-bearing messages it sent (its sync step 2 is the first).
struct Writer {
    client: YClient,
    sent: u64,
}

/// Sets `key` and waits for the edge's ack of it (acks are cumulative counts of messages sent).
async fn edit(writer: &mut Writer, key: &str, value: i64) {
    let client = &mut writer.client;
    client.set("m", key, value).await;
    writer.sent += 1;
    let owed = writer.sent;
    assert!(
        client.pump_until(|c| c.edge_acked >= owed, Duration::from_secs(10)).await,
        "no edge ack for {key}"
    );
}

fn keys(json: &Value) -> Vec<String> {
    let mut keys: Vec<String> = json.as_object().map(|map| map.keys().cloned().collect()).unwrap_or_default();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_ride_out_an_origin_outage_and_an_edge_crash_and_arrive_exactly_once() {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let origin = origin_at("127.0.0.1:0", dirs.0.path(), &[]);
    let origin_addr = origin.addr.clone();
    let edge1 = edge(&origin.url(), dirs.1.path());
    let (_, alice1) = login(&origin, "alice");
    let (_, alice2) = login(&origin, "alice");
    let mut one = writer(&edge1, &alice1).await;
    let mut two = writer(&edge1, &alice2).await;
    edit(&mut one, "before", 0).await;

    origin.kill_and_reap();
    let mut expected = vec!["before".to_owned()];
    for n in 0..EDITS {
        edit(&mut one, &format!("a{n}"), n as i64).await;
        edit(&mut two, &format!("b{n}"), n as i64).await;
        expected.extend([format!("a{n}"), format!("b{n}")]);
    }
    expected.sort();
    for client in [&mut one.client, &mut two.client] {
        let all = expected.clone();
        assert!(
            client.pump_until(|c| keys(&c.json("m")) == all, Duration::from_secs(10)).await,
            "each client sees the other's edits with the origin down: {}",
            client.json("m")
        );
    }
    assert!(
        edge1.metric("continuum_edge_queue_length") >= 1.0
            || edge1.metric("continuum_edge_replay_errors_total") >= 1.0
    );

    // The edge dies with the queue on its disk, and comes back while the origin is still away.
    edge1.kill_and_reap();
    drop((one, two));
    let edge2 = edge(&format!("http://{origin_addr}"), dirs.1.path());
    wait_for("the queue to be read back", Duration::from_secs(10), || {
        edge2.metric("continuum_edge_queue_length") >= (2 * EDITS) as f64
    });
    let restarted_queue = edge2.metric("continuum_edge_queue_last_seq");

    // The origin returns at its address: the queue drains, each entry applied once.
    let origin = origin_at(&origin_addr, dirs.0.path(), &[]);
    wait_for("the queue to drain", Duration::from_secs(20), || {
        edge2.metric("continuum_edge_queue_length") == 0.0
    });
    // Every entry is answered for once: applied, or (the "before" edit, if the origin was
    // killed between applying it and writing its mark) found already in the document. Each edit
    // of the outage was nowhere but in the queue, so each changed the origin's document.
    wait_for("the origin's count", Duration::from_secs(5), || {
        edge2.metric("continuum_edge_origin_applied") + edge2.metric("continuum_edge_origin_already_held")
            == edge2.metric("continuum_edge_queue_last_seq")
    });
    assert!(edge2.metric("continuum_edge_origin_already_held") <= 1.0, "at most the \"before\" edit");
    // The restarted origin appended each edit of the outage once, and "before" once more only
    // if the first origin died before appending it.
    let persisted = origin.metric("continuum_sync_updates_persisted_total");
    assert!(
        persisted == (2 * EDITS) as f64 || persisted == (2 * EDITS + 1) as f64,
        "appended {persisted} updates for {} edits of the outage",
        2 * EDITS
    );
    assert_eq!(edge2.metric("continuum_edge_queue_last_seq"), restarted_queue, "nothing new was queued");
    assert_eq!(edge2.metric("continuum_edge_origin_refused"), 0.0);

    let mut direct = client(&origin, &alice1).await;
    let all = expected.clone();
    assert!(
        direct.pump_until(|c| keys(&c.json("m")) == all, Duration::from_secs(5)).await,
        "a device at the origin sees every acknowledged edit: {}",
        direct.json("m")
    );
    assert_eq!(direct.json("m")["b9"], json!(9));

    // The same batch again applies nothing; a gap and bad input are refused.
    let edge_id = std::fs::read_to_string(dirs.1.path().join("edge-id")).unwrap().trim().to_owned();
    let mark = edge2.metric("continuum_edge_queue_last_seq") as u64;
    let entry =
        |seq: u64| json!({"seq": seq, "sid": null, "scope": "user:alice", "name": "draft", "update": "AAA"});
    let replay =
        |body: &Value| origin.request("POST", "/v1/edge/replay", &[("Authorization", &bearer())], Some(body));
    let (status, answer) = replay(&json!({"edge": edge_id, "entries": [entry(1), entry(2)]}));
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["applied"].as_u64(), answer["duplicates"].as_u64()), (Some(0), Some(2)), "{answer}");
    assert_eq!(answer["mark"].as_u64(), Some(mark));
    let (status, answer) = replay(&json!({"edge": edge_id, "entries": [entry(mark + 2)]}));
    assert_eq!(
        (status, answer["type"].as_str()),
        (409, Some("urn:continuum:problem:replay-gap")),
        "{answer}"
    );
    for bad in [
        json!({"edge": "a/b", "entries": []}),
        json!({"edge": edge_id, "entries": [entry(mark + 1), entry(mark + 3)]}),
        json!({"edge": edge_id, "entries": [{"seq": 1, "scope": "nobody", "name": "x", "update": ""}]}),
        json!({"edge": edge_id, "entries": [{"seq": 1, "scope": "user:a", "name": "x", "update": "!"}]}),
        json!({"edge": edge_id}),
    ] {
        let (status, answer) = replay(&bad);
        assert_eq!((status, answer["status"].as_u64()), (400, Some(400)), "{bad} → {answer}");
    }
    assert_eq!(origin.request("POST", "/v1/edge/replay", &[], Some(&json!({}))).0, 401);
}

/// Two Yjs updates of the root map `m`, one key each, base64url as the replay route takes them.
fn two_updates() -> [String; 2] {
    use base64::Engine as _;
    use yrs::{Map as _, Transact as _};
    let doc = yrs::Doc::new();
    let map = doc.get_or_insert_map("m");
    let update = |key: &str, value: &str| {
        let mut txn = doc.transact_mut();
        map.insert(&mut txn, key, value);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(txn.encode_update_v1())
    };
    [update("a", "one"), update("b", "two")]
}

#[test]
fn a_batch_sent_again_after_an_origin_crash_before_its_mark_applies_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let origin = origin_at("127.0.0.1:0", dir.path(), &[]);
    let addr = origin.addr.clone();
    let [one, two] = two_updates();
    let entry = |seq: u64, update: &str| json!({"seq": seq, "sid": null, "scope": "user:alice", "name": "crash", "update": update});
    let batch = json!({"edge": "edge-crash", "entries": [entry(1, &one), entry(2, &two)]});
    let replay = |origin: &Server| {
        origin.request("POST", "/v1/edge/replay", &[("Authorization", &bearer())], Some(&batch))
    };
    let (status, answer) = replay(&origin);
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["applied"].as_u64(), answer["mark"].as_u64()), (Some(2), Some(2)), "{answer}");
    origin.kill_and_reap();

    // What a crash between the appends and the mark leaves: the document holds the batch, the
    // mark is the one before it.
    std::fs::write(dir.path().join("edge-marks").join("edge-crash"), "0 0 0\n").unwrap();
    let origin = origin_at(&addr, dir.path(), &[]);
    let (status, answer) = replay(&origin);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (answer["applied"].as_u64(), answer["already_held"].as_u64(), answer["mark"].as_u64()),
        (Some(0), Some(2), Some(2)),
        "the document had both: {answer}"
    );
    assert_eq!(answer["duplicates"].as_u64(), Some(0), "none was at or below the mark: {answer}");
    assert_eq!(
        (answer["applied_total"].as_u64(), answer["already_held_total"].as_u64()),
        (Some(0), Some(2)),
        "the totals from the mark written before the crash: {answer}"
    );
    assert_eq!(origin.metric("continuum_sync_updates_persisted_total"), 0.0, "nothing appended again");
    let (status, doc) =
        origin.request("GET", "/v1/docs/user:alice/crash", &[("Authorization", &bearer())], None);
    assert_eq!((status, &doc["m"]), (200, &json!({"a": "one", "b": "two"})), "{doc}");
    origin.stop();
}

/// The `data` of the first `event: <kind>` on the origin's stream read by `reader`, within 20 s.
fn next_event(reader: &mut BufReader<std::net::TcpStream>, kind: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut current = String::new();
    let mut line = String::new();
    while Instant::now() < deadline {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => panic!("the event stream ended"),
            Ok(_) => {}
            Err(_) => continue, // read timeout: look at the deadline
        }
        let line = line.trim_end();
        if let Some(event) = line.strip_prefix("event: ") {
            current = event.to_owned();
        } else if let Some(data) = line.strip_prefix("data: ")
            && current == kind
        {
            return serde_json::from_str(data).unwrap();
        }
    }
    panic!("no {kind} event within 20 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_of_a_session_revoked_during_the_outage_are_refused_at_replay() {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let origin = origin_at("127.0.0.1:0", dirs.0.path(), &["--memory"]);
    let relay = Relay::start(&origin.addr);
    let edge = edge(&relay.url(), dirs.1.path());
    let (revoked_sid, revoked) = login(&origin, "alice");
    let (_, kept) = login(&origin, "alice");
    let mut doomed = writer(&edge, &revoked).await;
    let mut keeper = writer(&edge, &kept).await;

    relay.cut();
    for n in 0..5 {
        edit(&mut doomed, &format!("r{n}"), n).await;
        edit(&mut keeper, &format!("k{n}"), n).await;
    }
    let status = origin
        .request("DELETE", &format!("/v1/sessions/{revoked_sid}"), &[("Authorization", &bearer())], None)
        .0;
    assert_eq!(status, 204);

    let mut stream = std::net::TcpStream::connect(&origin.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    write!(stream, "GET /v1/events HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\n\r\n", origin.addr, bearer())
        .unwrap();
    let mut events = BufReader::new(stream);
    relay.heal();
    let refused = next_event(&mut events, "refused_updates");
    assert_eq!(refused["sid"].as_str(), Some(&*revoked_sid), "{refused}");
    assert_eq!(refused["principal"].as_str(), Some("alice"));
    let count = refused["count"].as_u64().unwrap();
    assert!((1..=5).contains(&count), "{refused}");

    wait_for("the queue to drain", Duration::from_secs(20), || {
        edge.metric("continuum_edge_queue_length") == 0.0
    });
    assert_eq!(edge.metric("continuum_edge_refused_updates_total"), count as f64);
    assert_eq!(
        edge.metric("continuum_edge_origin_applied")
            + edge.metric("continuum_edge_origin_refused")
            + edge.metric("continuum_edge_origin_already_held"),
        edge.metric("continuum_edge_queue_last_seq"),
        "every entry answered for once"
    );
    let closed =
        doomed.client.wait_closed(Duration::from_secs(5)).await.expect("the revoked session's socket closes");
    assert_eq!(closed.map(|frame| u16::from(frame.code)), Some(4401));

    // Replayed: the edge follows its edge acks with cloud acks (type 100) for all it sent.
    let sent = keeper.sent;
    assert!(
        keeper.client.pump_until(|c| c.acked >= sent, Duration::from_secs(10)).await,
        "cloud acks after the replay: {} of {sent}",
        keeper.client.acked
    );

    let mut direct = client(&origin, &kept).await;
    let want: Vec<String> = (0..5).map(|n| format!("k{n}")).collect();
    assert!(
        direct.pump_until(|c| keys(&c.json("m")) == want, Duration::from_secs(5)).await,
        "only the live session's edits are at the origin: {}",
        direct.json("m")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_socket_rides_out_an_outage_past_the_cap_and_a_new_one_fails_closed() {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let origin = origin_at("127.0.0.1:0", dirs.0.path(), &["--memory"]);
    let edge = Server::spawn(
        &[
            "edge",
            "--listen",
            "127.0.0.1:0",
            "--origin",
            &origin.url(),
            "--data",
            path(dirs.1.path()),
            "--dev",
            "--stream-cap-secs",
            "1",
        ],
        &[("CONTINUUM_ORIGIN_API_KEY", KEY)],
    );
    let (_, token) = login(&origin, "alice");
    let mut open = writer(&edge, &token).await;
    origin.kill_and_reap();
    // Past the cap, and several rounds of the edge's session check (every 250 ms).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    edit(&mut open, "after-the-cap", 1).await;
    assert!(
        open.client.closed.is_none(),
        "the open socket of a known session stays: {:?}",
        open.client.closed
    );

    let addr: SocketAddr = edge.addr.parse().unwrap();
    let auth = format!("Session {token}");
    let refused = YClient::connect(addr, DOC, &[("Authorization", &auth)]).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = refused else {
        panic!("a new socket cannot be validated with the origin away")
    };
    assert_eq!(response.status(), 503);
}
