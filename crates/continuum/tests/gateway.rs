//! `continuum gateway` in front of three `continuum serve` nodes over one Redis, all real
//! processes: a session's requests all reach its owner (counted on each node's `/metrics`), the
//! owner is core's placement primary, SIGKILL moves them to the next owner with the session
//! still valid, a sync socket on the killed node is closed with 1012 and its reconnect ends with
//! every acknowledged edit, and the restarted node is used again. Handoff codes and sync tickets
//! issued through one node are redeemed through the gateway whichever node that is.

mod common;

#[path = "../../continuum-server/tests/common/yclient.rs"]
mod yclient;

#[allow(dead_code)]
#[path = "../../continuum-server/tests/common/sse.rs"]
mod sse;

use std::time::{Duration, Instant};

use common::{Server, path};
use continuum_core::{DocKey, Placement, PlacementKey, Token};
use serde_json::{Value, json};
use yclient::YClient;

const KEY: &str = "ck_gateway_test_key_0123456789abcdefghijklmnop";
const VALIDATE: &str =
    r#"continuum_http_requests_total{method="POST",route="/v1/sessions/validate",status="200"}"#;

fn bearer() -> String {
    format!("Bearer {KEY}")
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{:x}{:x}", nanos, std::process::id())
}

fn redis_store() -> String {
    let base =
        std::env::var("CONTINUUM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    format!("{}/12", base.trim_end_matches('/'))
}

/// A node over `store` with the test's key, on `listen`.
fn node(listen: &str, store: &str, dir: &std::path::Path) -> Server {
    Server::start_at(
        listen,
        &["--dev", "--data", path(dir), "--store", store],
        &[("CONTINUUM_API_KEY", KEY), ("CONTINUUM_HTTP_TRUSTED_PROXIES", "127.0.0.1")],
    )
}

fn gateway(nodes: &[&Server], extra: &[&str]) -> Server {
    let list = nodes.iter().map(|node| node.url()).collect::<Vec<_>>().join(",");
    let args =
        [&["gateway", "--listen", "127.0.0.1:0", "--nodes", &list, "--check-interval-ms", "100"][..], extra]
            .concat();
    Server::spawn(&args, &[])
}

fn create(gateway: &Server, principal: &str) -> Token {
    let (status, answer) = gateway.request(
        "POST",
        "/v1/sessions",
        &[("authorization", &bearer())],
        Some(&json!({"principal": principal})),
    );
    assert_eq!(status, 201, "{answer}");
    answer["token"].as_str().unwrap().parse().unwrap()
}

fn validate(gateway: &Server, token: &Token) -> (u16, Value) {
    let body = json!({"token": token.to_string()});
    gateway
        .try_request("POST", "/v1/sessions/validate", &[("authorization", &bearer())], Some(&body))
        .unwrap_or((0, Value::Null))
}

/// How many validations each node answered so far.
fn counts(nodes: &[&Server]) -> Vec<f64> {
    nodes.iter().map(|node| node.metric(VALIDATE)).collect()
}

/// The index (in `nodes`) of the node that answered exactly `n` validations between two counts,
/// asserting that no other node answered any.
fn the_one_that_answered(before: &[f64], after: &[f64], n: f64) -> usize {
    let deltas: Vec<f64> = before.iter().zip(after).map(|(b, a)| a - b).collect();
    let served: Vec<usize> = (0..deltas.len()).filter(|&i| deltas[i] > 0.0).collect();
    assert_eq!(served.len(), 1, "one node answers a session's requests: {deltas:?}");
    assert_eq!(deltas[served[0]], n, "{deltas:?}");
    served[0]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

#[test]
fn the_gateway_keeps_a_session_on_its_owner_and_fails_over_to_the_next() {
    let store = redis_store();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut nodes: Vec<Option<Server>> =
        dirs.iter().map(|dir| Some(node("127.0.0.1:0", &store, dir.path()))).collect();
    let addrs: Vec<String> = nodes.iter().map(|node| node.as_ref().unwrap().addr.clone()).collect();
    let placement = Placement::new(addrs.clone());
    let index_of = |id: &str| addrs.iter().position(|addr| addr == id).unwrap();
    let gw = {
        let refs: Vec<&Server> = nodes.iter().map(|node| node.as_ref().unwrap()).collect();
        gateway(&refs, &[])
    };
    let run = unique();

    // Stickiness: every session's validations land on one node, its placement primary.
    let mut owners = Vec::new();
    let mut tokens = Vec::new();
    for i in 0..9 {
        let token = create(&gw, &format!("gw-{run}-{i}"));
        let refs: Vec<&Server> = nodes.iter().map(|node| node.as_ref().unwrap()).collect();
        let before = counts(&refs);
        for _ in 0..5 {
            assert_eq!(validate(&gw, &token).0, 200);
        }
        let owner = the_one_that_answered(&before, &counts(&refs), 5.0);
        let primary = placement.primary(&PlacementKey::session(&token.sid)).unwrap();
        assert_eq!(addrs[owner], primary, "the gateway routes with core's placement");
        owners.push(owner);
        tokens.push(token);
    }
    owners.sort_unstable();
    owners.dedup();
    assert!(owners.len() >= 2, "nine sessions spread over the nodes: {owners:?}");

    // A sync socket on the node about to die: a document whose primary is that node.
    let token = tokens[0].clone();
    let ranked: Vec<String> =
        placement.rank(&PlacementKey::session(&token.sid)).into_iter().map(str::to_owned).collect();
    let (victim, backup) = (index_of(&ranked[0]), index_of(&ranked[1]));
    let principal = format!("gw-{run}-0");
    let doc_name = (0..)
        .map(|i| format!("draft-{i}"))
        .find(|name| {
            let doc = DocKey::parse(&format!("user:{principal}"), name).unwrap();
            placement.primary(&PlacementKey::doc(&doc)) == Some(addrs[victim].as_str())
        })
        .unwrap();
    let doc_path = format!("/v1/sync/user:{principal}/{doc_name}?acks=1");
    let gw_addr = gw.addr.parse().unwrap();
    let session_header = format!("Session {token}");
    let rt = runtime();
    let mut client = rt.block_on(async {
        let mut client = YClient::connect(gw_addr, &doc_path, &[("authorization", &session_header)])
            .await
            .expect("socket opens");
        client.sync().await;
        for i in 0..5 {
            client.set("form", &format!("before_{i}"), i as f64).await;
        }
        assert!(
            client.pump_until(|c| c.acked >= 5, Duration::from_secs(10)).await,
            "acked: {}",
            client.acked
        );
        client
    });

    // SIGKILL the session's owner: the next request is answered by the next owner.
    let victim_addr = addrs[victim].clone();
    nodes[victim].take().unwrap().kill_and_reap();
    let killed = Instant::now();
    let backup_before = nodes[backup].as_ref().unwrap().metric(VALIDATE);
    let (status, answer) = validate(&gw, &token);
    let first_success = killed.elapsed();
    assert_eq!(status, 200, "the first request after the kill succeeds: {answer}");
    assert_eq!(answer["session"]["principal"], json!(principal), "the session is still valid");
    assert_eq!(nodes[backup].as_ref().unwrap().metric(VALIDATE), backup_before + 1.0, "on the next owner");
    eprintln!("kill to first success: {first_success:?}");
    for other in &tokens[1..] {
        assert_eq!(validate(&gw, other).0, 200, "every session survives the node");
    }

    // The socket is closed with a code the SDK reconnects on; the reconnect keeps every edit.
    rt.block_on(async {
        let frame = client.wait_closed(Duration::from_secs(5)).await.expect("the gateway closes the socket");
        let code = frame.map(|frame| u16::from(frame.code));
        assert_eq!(code, Some(1012), "service restart: reconnect");
        let doc = client.close().await;
        let mut again = YClient::connect_with(doc, gw_addr, &doc_path, &[("authorization", &session_header)])
            .await
            .expect("the reconnect opens on the next owner");
        again.sync().await;
        again.set("form", "after", 1.0).await;
        assert!(again.pump_until(|c| c.acked >= 1, Duration::from_secs(10)).await, "the new owner acks");
        let mut fresh =
            YClient::connect(gw_addr, &doc_path, &[("authorization", &session_header)]).await.unwrap();
        fresh.sync().await;
        let form = fresh.json("form");
        for i in 0..5 {
            let value = form[format!("before_{i}")].as_f64();
            assert_eq!(value, Some(i as f64), "acknowledged before the kill: {form}");
        }
        assert_eq!(form["after"].as_f64(), Some(1.0));
    });

    // The restarted node passes its checks and gets its sessions back.
    nodes[victim] = Some(node(&victim_addr, &store, dirs[victim].path()));
    let restarted = Instant::now();
    let deadline = restarted + Duration::from_secs(10);
    loop {
        let before = nodes[victim].as_ref().unwrap().metric(VALIDATE);
        assert_eq!(validate(&gw, &token).0, 200);
        if nodes[victim].as_ref().unwrap().metric(VALIDATE) > before {
            break;
        }
        assert!(Instant::now() < deadline, "the restarted node is used again within 10 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("restart (ready) to first request on it again: {:?}", restarted.elapsed());
    let ejections = format!(r#"continuum_gateway_ejections_total{{node="{victim_addr}"}}"#);
    let readmissions = format!(r#"continuum_gateway_readmissions_total{{node="{victim_addr}"}}"#);
    assert!(gw.metric(&ejections) >= 1.0 && gw.metric(&readmissions) >= 1.0);
    assert!(gw.metric("continuum_gateway_failovers_total") >= 1.0);
    assert_eq!(gw.metric("continuum_gateway_websockets_node_lost_total"), 1.0);
    let (status, _) = gw.stop();
    assert!(status.success());
}

#[test]
fn codes_and_tickets_issued_through_one_node_are_redeemed_through_the_gateway() {
    let store = redis_store();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let nodes: Vec<Server> = dirs.iter().map(|dir| node("127.0.0.1:0", &store, dir.path())).collect();
    let placement = Placement::new(nodes.iter().map(|node| node.addr.clone()));
    let primary = |key: &PlacementKey| placement.primary(key).unwrap().to_owned();
    let gw = gateway(&nodes.iter().collect::<Vec<_>>(), &[]);
    let run = unique();
    let rt = runtime();
    for i in 0..4 {
        let principal = format!("handoff-{run}-{i}");
        let token = create(&gw, &principal);
        let issuer = primary(&PlacementKey::session(&token.sid));
        let auth = format!("Session {token}");
        let (status, offer) = gw.request("POST", "/v1/me/handoff", &[("authorization", &auth)], None);
        assert_eq!(status, 201, "{offer}");
        // The new device already holds a session owned by another node: the redemption must
        // still reach the issuer, not that session's owner.
        let other = (0..)
            .map(|j| create(&gw, &format!("other-{run}-{i}-{j}")))
            .find(|other| primary(&PlacementKey::session(&other.sid)) != issuer)
            .unwrap();
        let code = offer["code"].as_str().unwrap().to_lowercase();
        let other_auth = format!("Session {other}");
        let (status, redeemed) = gw.request(
            "POST",
            "/v1/handoff/redeem",
            &[("authorization", &other_auth)],
            Some(&json!({"code": code})),
        );
        assert_eq!(status, 201, "redeemed through the gateway: {redeemed}");
        assert_eq!(redeemed["session"]["principal"], json!(principal));

        // A ticket for a document owned by another node opens its socket on the issuer.
        let (status, ticket) = gw.request("POST", "/v1/sync/ticket", &[("authorization", &auth)], None);
        assert_eq!(status, 201, "{ticket}");
        let name = (0..)
            .map(|j| format!("notes-{j}"))
            .find(|name| {
                let doc = DocKey::parse(&format!("user:{principal}"), name).unwrap();
                primary(&PlacementKey::doc(&doc)) != issuer
            })
            .unwrap();
        let path = format!("/v1/sync/user:{principal}/{name}?ticket={}", ticket["ticket"].as_str().unwrap());
        rt.block_on(async {
            let mut socket =
                YClient::connect(gw.addr.parse().unwrap(), &path, &[]).await.expect("the ticket opens it");
            socket.sync().await;
        });
    }
}

/// `POST /v1/guest` through the gateway from the loopback address `from` (127.0.0.x), with
/// `forwarded` as the client's own `X-Forwarded-For` if given; the status.
fn guest_from(gateway: &Server, from: &str, forwarded: Option<&str>) -> u16 {
    runtime().block_on(async {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
        let mut stream = socket.connect(gateway.addr.parse().unwrap()).await.unwrap();
        let spoof = forwarded.map(|value| format!("X-Forwarded-For: {value}\r\n")).unwrap_or_default();
        let request = format!(
            "POST /v1/guest HTTP/1.1\r\nHost: {}\r\n{spoof}Content-Length: 0\r\nConnection: close\r\n\r\n",
            gateway.addr
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        answer[9..12].parse().unwrap()
    })
}

#[test]
fn behind_the_gateway_rate_limits_count_each_client_only_where_the_gateway_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let limits =
        [("CONTINUUM_API_KEY", KEY), ("CONTINUUM_GUEST_ENABLED", "true"), ("CONTINUUM_GUEST_BURST", "1")];
    let trusting = Server::start(
        &["--dev", "--memory", "--data", path(dir.path()), "--trusted-proxy", "127.0.0.1"],
        &[limits[0], limits[1], limits[2], ("CONTINUUM_GUEST_PER_MINUTE", "1")],
    );
    let gw = gateway(&[&trusting], &[]);
    assert_eq!(guest_from(&gw, "127.0.0.2", None), 201);
    assert_eq!(guest_from(&gw, "127.0.0.2", None), 429, "the same client is limited");
    assert_eq!(
        guest_from(&gw, "127.0.0.2", Some("203.0.113.9")),
        429,
        "what a client forwards is not believed"
    );
    assert_eq!(guest_from(&gw, "127.0.0.3", None), 201, "another client has its own limit");

    let other = tempfile::tempdir().unwrap();
    let distrusting = Server::start(
        &["--dev", "--memory", "--data", path(other.path())],
        &[limits[0], limits[1], limits[2], ("CONTINUUM_GUEST_PER_MINUTE", "1")],
    );
    let gw = gateway(&[&distrusting], &[]);
    assert_eq!(guest_from(&gw, "127.0.0.2", None), 201);
    assert_eq!(guest_from(&gw, "127.0.0.3", None), 429, "without trust, every client is the gateway");
}

#[test]
fn the_event_stream_is_passed_through_as_it_is_written() {
    let store = redis_store();
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let nodes: Vec<Server> = dirs.iter().map(|dir| node("127.0.0.1:0", &store, dir.path())).collect();
    let gw = gateway(&nodes.iter().collect::<Vec<_>>(), &[]);
    let principal = format!("events-{}", unique());
    runtime().block_on(async {
        let auth = bearer();
        let mut events =
            sse::SseReader::open(gw.addr.parse().unwrap(), "/v1/events", &[("authorization", &auth)]).await;
        assert_eq!(events.status, 200);
        // Created through the gateway on whichever node: the stream's node hears it over Redis.
        for _ in 0..3 {
            create(&gw, &principal);
        }
        // Other tests share the bus: count this test's principal only.
        let mut created = 0;
        while created < 3 {
            let event = events.next(Duration::from_secs(5)).await.expect("an event while the stream is open");
            if event.data["principal"] == json!(principal) {
                assert_eq!(event.event, "created", "{}", event.raw);
                created += 1;
            }
        }
    });
}
