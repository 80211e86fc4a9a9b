//! Three `continuum serve --store replicated` processes on loopback, with no shared store: each
//! node keeps its own redb file and copies every write to the key's backup before answering.
//! A session created through one node is valid through the others; a revocation through one is
//! refused through the others at once; a document patched through one is read through another;
//! and when a node is killed with SIGKILL while 64 writers are busy on all three, every write
//! and revocation any node acknowledged is there afterwards. The three nodes are configured by
//! flags, by environment variables and by a TOML file.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::replicated::free_addr;
use common::{Server, path};
use serde_json::json;

const KEY: &str = "ck_replicated_test_key_0123456789abcdefghijklm";

fn auth() -> String {
    format!("Bearer {KEY}")
}

/// Three nodes, started together (each becomes ready once it sees a quorum). Each is
/// configured another way: the first by flags, the second by `CONTINUUM_CLUSTER_*` variables,
/// the third by the `[cluster]` table of a TOML file.
fn cluster(dirs: &[tempfile::TempDir; 3]) -> Vec<Arc<Server>> {
    let addrs: Vec<SocketAddr> = (0..3).map(|_| free_addr()).collect();
    let starts: Vec<_> = (0..3)
        .map(|i| {
            let peers: Vec<String> =
                addrs.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, a)| a.to_string()).collect();
            let (data, listen) = (path(dirs[i].path()).to_owned(), addrs[i].to_string());
            let file = dirs[i].path().join("continuum.toml");
            std::thread::spawn(move || {
                let id = format!("node-{i}");
                let peers = peers.join(",");
                let server = match i {
                    0 => {
                        let args = [
                            "--data",
                            &data,
                            "--store",
                            "replicated",
                            "--node-id",
                            &id,
                            "--cluster-listen",
                            &listen,
                            "--peers",
                            &peers,
                            "--replicas",
                            "1",
                        ];
                        Server::start(&args, &[("CONTINUUM_API_KEY", KEY)])
                    }
                    1 => {
                        let env = [
                            ("CONTINUUM_API_KEY", KEY),
                            ("CONTINUUM_STORE", "replicated"),
                            ("CONTINUUM_CLUSTER_NODE_ID", id.as_str()),
                            ("CONTINUUM_CLUSTER_LISTEN", listen.as_str()),
                            ("CONTINUUM_CLUSTER_PEERS", peers.as_str()),
                            ("CONTINUUM_CLUSTER_REPLICAS", "1"),
                        ];
                        Server::start(&["--data", &data], &env)
                    }
                    _ => {
                        let quoted: Vec<String> = peers.split(',').map(|peer| format!("{peer:?}")).collect();
                        let toml = format!(
                            "store = \"replicated\"\n[cluster]\nnode_id = {id:?}\nlisten = {listen:?}\npeers = [{}]\nreplicas = 1\n",
                            quoted.join(", ")
                        );
                        std::fs::write(&file, toml).expect("writes the configuration file");
                        let file = path(&file).to_owned();
                        Server::start(&["--data", &data, "--config", &file], &[("CONTINUUM_API_KEY", KEY)])
                    }
                };
                Arc::new(server)
            })
        })
        .collect();
    starts.into_iter().map(|start| start.join().expect("a node started")).collect()
}

fn validate(node: &Server, token: &str) -> u16 {
    node.request(
        "POST",
        "/v1/sessions/validate",
        &[("authorization", &auth())],
        Some(&json!({"token": token})),
    )
    .0
}

#[test]
fn sessions_and_documents_are_shared_by_three_nodes_without_a_store() {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let nodes = cluster(&dirs);
    let (a, b, c) = (&nodes[0], &nodes[1], &nodes[2]);
    let mut sessions = Vec::new();
    // Enough sessions that every node is the primary of some and forwards others.
    for i in 0..12 {
        let (status, created) = a.request(
            "POST",
            "/v1/sessions",
            &[("authorization", &auth())],
            Some(&json!({"principal": format!("u{i}")})),
        );
        assert_eq!(status, 201, "{created}");
        sessions.push((
            created["token"].as_str().unwrap().to_owned(),
            created["session"]["sid"].as_str().unwrap().to_owned(),
        ));
    }
    for (token, _) in &sessions {
        assert_eq!(validate(b, token), 200, "a session created through A is valid through B");
        assert_eq!(validate(c, token), 200, "and through C");
    }
    for (token, sid) in &sessions {
        let (status, body) =
            c.request("DELETE", &format!("/v1/sessions/{sid}"), &[("authorization", &auth())], None);
        assert!(status == 204 || status == 200, "revoked through C: {status} {body}");
        assert_eq!(validate(a, token), 401, "a revocation through C is refused through A at once");
    }
    let doc = "/v1/docs/user:alice/draft";
    let patch = json!({"form": {"title": "from A"}});
    let (status, body) = a.request("PATCH", doc, &[("authorization", &auth())], Some(&patch));
    assert_eq!(status, 200, "{body}");
    let (status, content) = c.request("GET", doc, &[("authorization", &auth())], None);
    assert_eq!(status, 200, "{content}");
    assert_eq!(content["form"]["title"], "from A", "a document patched through A is read through C");
    let text = metrics_text(b);
    assert!(text.contains("continuum_replication_members 3"), "{text}");
    let sent = text.lines().find_map(|line| line.strip_prefix("continuum_replication_sent_bytes_total "));
    assert!(
        sent.and_then(|n| n.parse::<u64>().ok()).is_some_and(|n| n > 0),
        "B sent bytes to its peers: {text}"
    );
    for node in nodes {
        Arc::into_inner(node).expect("no other owner").stop();
    }
}

/// The node's `/metrics` text.
fn metrics_text(node: &Server) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(&node.addr).unwrap();
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", node.addr).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

/// Writes acknowledged before the kill, and after it.
const BEFORE_KILL: usize = 300;
const AFTER_KILL: usize = 150;
const WRITERS: usize = 64;

#[derive(Default)]
struct Acknowledged {
    live: Vec<String>,
    revoked: Vec<String>,
}

#[test]
fn a_node_killed_under_64_writers_loses_no_acknowledged_write_or_revocation() {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let nodes = cluster(&dirs);
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(AtomicUsize::new(0));
    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (nodes, stop, acks, acknowledged) =
                (nodes.clone(), stop.clone(), acks.clone(), acknowledged.clone());
            std::thread::spawn(move || {
                let auth = auth();
                let mut mine: Vec<(String, String)> = Vec::new();
                for i in 0usize.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let node = &nodes[(writer + i) % nodes.len()];
                    // Every third operation revokes one of this writer's sessions through another node.
                    if i % 3 == 2 && !mine.is_empty() {
                        let (token, sid) = mine.remove(0);
                        let answer = node.try_request(
                            "DELETE",
                            &format!("/v1/sessions/{sid}"),
                            &[("authorization", &auth)],
                            None,
                        );
                        if let Some((200 | 204, _)) = answer {
                            let mut acknowledged = acknowledged.lock().unwrap();
                            acknowledged.live.retain(|live| *live != token);
                            acknowledged.revoked.push(token);
                            acks.fetch_add(1, Ordering::Relaxed);
                        } else {
                            // No answer: the revocation may or may not have happened; the
                            // session is checked for neither.
                            acknowledged.lock().unwrap().live.retain(|live| *live != token);
                        }
                        continue;
                    }
                    let body = json!({"principal": format!("w{writer}")});
                    if let Some((201, created)) =
                        node.try_request("POST", "/v1/sessions", &[("authorization", &auth)], Some(&body))
                    {
                        let token = created["token"].as_str().unwrap().to_owned();
                        let sid = created["session"]["sid"].as_str().unwrap().to_owned();
                        acknowledged.lock().unwrap().live.push(token.clone());
                        mine.push((token, sid));
                        acks.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    let wait_for = |target: usize| {
        let deadline = Instant::now() + Duration::from_secs(90);
        while acks.load(Ordering::Relaxed) < target {
            assert!(
                Instant::now() < deadline,
                "the writers got too few answers ({} of {target})",
                acks.load(Ordering::Relaxed)
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    wait_for(BEFORE_KILL);
    nodes[1].kill_now();
    wait_for(BEFORE_KILL + AFTER_KILL);
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap();
    for survivor in [&nodes[0], &nodes[2]] {
        for token in &acknowledged.live {
            assert_eq!(
                validate(survivor, token),
                200,
                "an acknowledged session was lost with the killed node"
            );
        }
        for token in &acknowledged.revoked {
            assert_eq!(validate(survivor, token), 401, "an acknowledged revocation was undone");
        }
    }
    // Two creations for each revocation: both kinds were acknowledged, before and after the kill.
    assert!(
        acknowledged.revoked.len() >= (BEFORE_KILL + AFTER_KILL) / 4,
        "{} revocations",
        acknowledged.revoked.len()
    );
    assert!(
        acknowledged.live.len() >= (BEFORE_KILL + AFTER_KILL) / 4,
        "{} live sessions",
        acknowledged.live.len()
    );
}
