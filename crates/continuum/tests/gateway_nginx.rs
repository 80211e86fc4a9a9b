//! The classic schemes next to `continuum gateway`, on the same three nodes over one Redis:
//! Debian's nginx with `hash $cookie_continuum consistent` (its passive checks, `max_fails=1
//! fail_timeout=10s`), and the gateway's own `--affinity ip`. Both keep a client on one node and
//! still work after a SIGKILL because the store is shared; what differs from `--affinity sid`
//! is shown, not claimed: nginx's fail-over node is its own ring's next, not the placement's
//! backup, a socket on the dead node is torn down without a close frame, and the restarted node
//! gets no traffic until `fail_timeout` has passed (no active checks).

mod common;

#[path = "../../continuum-server/tests/common/yclient.rs"]
mod yclient;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Server, path};
use continuum_core::{Placement, PlacementKey};
use serde_json::json;
use yclient::YClient;

const KEY: &str = "ck_gateway_nginx_test_key_0123456789abcdefghij";
const ME: &str = r#"continuum_http_requests_total{method="GET",route="/v1/me",status="200"}"#;

fn redis_store() -> String {
    let base =
        std::env::var("CONTINUUM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    format!("{}/13", base.trim_end_matches('/'))
}

fn node(listen: &str, store: &str, dir: &Path) -> Server {
    Server::start_at(
        listen,
        &["--dev", "--data", path(dir), "--store", store, "--trusted-proxy", "127.0.0.1"],
        &[("CONTINUUM_API_KEY", KEY)],
    )
}

fn three_nodes(store: &str, dirs: &[tempfile::TempDir]) -> Vec<Option<Server>> {
    dirs.iter().map(|dir| Some(node("127.0.0.1:0", store, dir.path()))).collect()
}

fn nginx_binary() -> String {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .find(|candidate| Path::new(candidate).exists())
        .map(|found| found.to_string())
        .expect("nginx is installed (scripts/test.sh installs Debian's nginx when it is missing)")
}

/// A free loopback port: bound, read, released (nginx binds it right after).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// nginx in the foreground (`daemon off`) with its prefix, config and logs in a temp dir.
struct Nginx {
    child: Child,
    front: Server,
    _dir: tempfile::TempDir,
}

impl Nginx {
    fn start(nodes: &[&Server]) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let servers: String = nodes
            .iter()
            .map(|node| format!("    server {} max_fails=1 fail_timeout=10s;\n", node.addr))
            .collect();
        let prefix = path(dir.path());
        let conf = format!(
            "daemon off;\nworker_processes 1;\nuser root;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n  access_log off;\n\
               client_body_temp_path {prefix}/body;\n  proxy_temp_path {prefix}/proxy;\n\
               fastcgi_temp_path {prefix}/fastcgi;\n  uwsgi_temp_path {prefix}/uwsgi;\n  scgi_temp_path {prefix}/scgi;\n\
               map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}\n\
               upstream nodes {{\n    hash $cookie_continuum consistent;\n{servers}    keepalive 32;\n  }}\n\
               server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
                   proxy_pass http://nodes;\n      proxy_http_version 1.1;\n\
                   proxy_set_header Host $http_host;\n      proxy_set_header Upgrade $http_upgrade;\n\
                   proxy_set_header Connection $connection_upgrade;\n\
                   proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
                   proxy_next_upstream error timeout http_502 http_503;\n\
                   proxy_read_timeout 60s;\n    }}\n  }}\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let child = Command::new(nginx_binary())
            .args(["-p", prefix, "-c", "nginx.conf", "-e", &format!("{prefix}/error.log")])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nginx starts");
        let front = Server::at(format!("127.0.0.1:{port}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while front.try_request("GET", "/readyz", &[], None).map(|(status, _)| status) != Some(200) {
            let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
            assert!(Instant::now() < deadline, "nginx did not start: {log}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx { child, front, _dir: dir }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn create(front: &Server, principal: &str) -> String {
    let auth = format!("Bearer {KEY}");
    let (status, answer) = front.request(
        "POST",
        "/v1/sessions",
        &[("authorization", &auth)],
        Some(&json!({"principal": principal})),
    );
    assert_eq!(status, 201, "{answer}");
    answer["token"].as_str().unwrap().to_owned()
}

/// `GET /v1/me` with the session cookie, as a browser sends it; the status.
fn me(front: &Server, token: &str) -> u16 {
    let cookie = format!("continuum={token}");
    front.try_request("GET", "/v1/me", &[("cookie", &cookie)], None).map_or(0, |(status, _)| status)
}

fn live(nodes: &[Option<Server>]) -> Vec<&Server> {
    nodes.iter().flatten().collect()
}

/// Which node (index into `nodes`, the dead counting 0) answered `n` `/v1/me` since `before`.
fn answered_by(nodes: &[Option<Server>], before: &[f64], n: f64) -> usize {
    let after: Vec<f64> =
        nodes.iter().map(|node| node.as_ref().map_or(0.0, |node| node.metric(ME))).collect();
    let deltas: Vec<f64> = after.iter().zip(before).map(|(a, b)| a - b).collect();
    let served: Vec<usize> = (0..deltas.len()).filter(|&i| deltas[i] > 0.0).collect();
    assert_eq!(served.len(), 1, "one node answers the session: {deltas:?}");
    assert_eq!(deltas[served[0]], n, "{deltas:?}");
    served[0]
}

fn counts(nodes: &[Option<Server>]) -> Vec<f64> {
    nodes.iter().map(|node| node.as_ref().map_or(0.0, |node| node.metric(ME))).collect()
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{:x}{:x}", nanos, std::process::id())
}

#[test]
fn nginx_hash_by_cookie_fails_over_to_its_own_next_node_and_waits_out_fail_timeout() {
    let store = redis_store();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut nodes = three_nodes(&store, &dirs);
    let addrs: Vec<String> = live(&nodes).iter().map(|node| node.addr.clone()).collect();
    let placement = Placement::new(addrs.clone());
    let nginx = Nginx::start(&live(&nodes));
    let run = unique();
    let principal = format!("nginx-{run}");
    let token = create(&nginx.front, &principal);

    let before = counts(&nodes);
    for _ in 0..5 {
        assert_eq!(me(&nginx.front, &token), 200);
    }
    let owner = answered_by(&nodes, &before, 5.0);
    let sid = continuum_core::Token::parse(&token).unwrap().sid;
    let ranked = placement.rank(&PlacementKey::session(&sid));
    eprintln!("nginx owner {}, placement primary {}, backup {}", addrs[owner], ranked[0], ranked[1]);

    // A sync socket through nginx lands where the cookie hashes.
    let doc_path = format!("/v1/sync/user:{principal}/draft?acks=1");
    let cookie = format!("continuum={token}");
    let origin = format!("http://{}", nginx.front.addr);
    let headers = [("cookie", cookie.as_str()), ("origin", origin.as_str())];
    let front_addr = nginx.front.addr.parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut client = rt.block_on(async {
        let mut client =
            YClient::connect(front_addr, &doc_path, &headers).await.expect("socket through nginx");
        client.sync().await;
        for i in 0..5 {
            client.set("form", &format!("before_{i}"), i as f64).await;
        }
        assert!(client.pump_until(|c| c.acked >= 5, Duration::from_secs(10)).await);
        client
    });

    let owner_addr = addrs[owner].clone();
    nodes[owner].take().unwrap().kill_and_reap();
    let killed = Instant::now();
    let before = counts(&nodes);
    assert_eq!(me(&nginx.front, &token), 200, "nginx retries the next server of its ring (shared store)");
    eprintln!("nginx: kill to first success {:?}", killed.elapsed());
    let next = answered_by(&nodes, &before, 1.0);
    eprintln!("nginx failed over to {} (the placement's backup is {})", addrs[next], ranked[1]);

    rt.block_on(async {
        let frame = client.wait_closed(Duration::from_secs(5)).await;
        eprintln!("nginx closed the socket with {frame:?}");
        assert_eq!(
            frame,
            Some(None),
            "nginx tears the socket down without a close frame (1006 for a browser)"
        );
        let doc = client.close().await;
        let mut again = YClient::connect_with(doc, front_addr, &doc_path, &headers).await.expect("reconnect");
        again.sync().await;
        let mut fresh = YClient::connect(front_addr, &doc_path, &headers).await.unwrap();
        fresh.sync().await;
        let form = fresh.json("form");
        for i in 0..5 {
            assert_eq!(
                form[format!("before_{i}")].as_f64(),
                Some(i as f64),
                "over one Redis nothing is lost: {form}"
            );
        }
    });

    // Restarted at once, the node is not used again before fail_timeout (10 s): no active checks.
    nodes[owner] = Some(node(&owner_addr, &store, dirs[owner].path()));
    let restarted = Instant::now();
    let before = counts(&nodes);
    for _ in 0..3 {
        assert_eq!(me(&nginx.front, &token), 200);
    }
    if restarted.elapsed() < Duration::from_secs(5) {
        assert_eq!(answered_by(&nodes, &before, 3.0), next, "still on the fail-over node");
    }
    let deadline = killed + Duration::from_secs(20);
    loop {
        let before = counts(&nodes);
        assert_eq!(me(&nginx.front, &token), 200);
        if answered_by(&nodes, &before, 1.0) == owner {
            break;
        }
        assert!(Instant::now() < deadline, "nginx uses the node again after fail_timeout");
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("nginx used the restarted node again {:?} after the kill", killed.elapsed());
}

#[test]
fn the_gateway_by_client_ip_keeps_a_client_on_one_node_and_fails_over_with_the_same_checks() {
    let store = redis_store();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut nodes = three_nodes(&store, &dirs);
    let addrs: Vec<String> = live(&nodes).iter().map(|node| node.addr.clone()).collect();
    let placement = Placement::new(addrs.clone());
    let list = addrs.iter().map(|addr| format!("http://{addr}")).collect::<Vec<_>>().join(",");
    let gw = Server::spawn(
        &[
            "gateway",
            "--listen",
            "127.0.0.1:0",
            "--nodes",
            &list,
            "--affinity",
            "ip",
            "--check-interval-ms",
            "100",
        ],
        &[],
    );
    let run = unique();
    // Every session of this client (127.0.0.1) goes to one node: the client's, not the session's.
    let tokens: Vec<String> = (0..4).map(|i| create(&gw, &format!("ip-{run}-{i}"))).collect();
    let before = counts(&nodes);
    for token in &tokens {
        assert_eq!(me(&gw, token), 200);
    }
    let owner = answered_by(&nodes, &before, 4.0);
    let client_key = PlacementKey::client("127.0.0.1".parse().unwrap());
    let ranked = placement.rank(&client_key);
    assert_eq!(addrs[owner], ranked[0], "ranked by client address");
    nodes[owner].take().unwrap().kill_and_reap();
    let before = counts(&nodes);
    for token in &tokens {
        assert_eq!(me(&gw, token), 200, "over one Redis the sessions survive");
    }
    let next = answered_by(&nodes, &before, 4.0);
    assert_eq!(addrs[next], ranked[1], "the client's next node");
}
