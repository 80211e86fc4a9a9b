//! `continuum gateway` in front of three `continuum serve --store replicated` nodes, all real
//! processes, no shared store: each node's id is its own listen address, so the gateway's
//! placement and the cluster's are the same ranking. A session's validations all reach its
//! primary; SIGKILL that node and the next validation through the gateway succeeds on the
//! session's backup, which holds its copy, and every session stays valid.

mod common;

use std::net::SocketAddr;
use std::time::Instant;

use common::replicated::free_addr;
use common::{Server, path};
use continuum_core::{Placement, PlacementKey, Token};
use serde_json::json;

const KEY: &str = "ck_gateway_replicated_key_0123456789abcdefghij";
const VALIDATE: &str =
    r#"continuum_http_requests_total{method="POST",route="/v1/sessions/validate",status="200"}"#;

fn validate(gateway: &Server, token: &Token) -> u16 {
    let body = json!({"token": token.to_string()});
    let auth = format!("Bearer {KEY}");
    gateway
        .try_request("POST", "/v1/sessions/validate", &[("authorization", &auth)], Some(&body))
        .map_or(0, |a| a.0)
}

#[test]
fn the_gateway_fails_over_to_the_backup_of_a_replicated_cluster() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let http: Vec<SocketAddr> = (0..3).map(|_| free_addr()).collect();
    let gossip: Vec<SocketAddr> = (0..3).map(|_| free_addr()).collect();
    let starts: Vec<_> = (0..3)
        .map(|i| {
            let peers: Vec<String> =
                gossip.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, a)| a.to_string()).collect();
            let (data, listen, cluster) =
                (path(dirs[i].path()).to_owned(), http[i].to_string(), gossip[i].to_string());
            std::thread::spawn(move || {
                let peers = peers.join(",");
                let args = [
                    "--dev",
                    "--data",
                    &data,
                    "--store",
                    "replicated",
                    "--node-id",
                    &listen,
                    "--cluster-listen",
                    &cluster,
                    "--peers",
                    &peers,
                ];
                Server::start_at(&listen, &args, &[("CONTINUUM_API_KEY", KEY)])
            })
        })
        .collect();
    let mut nodes: Vec<Option<Server>> =
        starts.into_iter().map(|start| Some(start.join().unwrap())).collect();
    let ids: Vec<String> = http.iter().map(ToString::to_string).collect();
    let placement = Placement::new(ids.clone());
    let list = ids.iter().map(|id| format!("http://{id}")).collect::<Vec<_>>().join(",");
    let gw = Server::spawn(
        &["gateway", "--listen", "127.0.0.1:0", "--nodes", &list, "--check-interval-ms", "100"],
        &[],
    );

    let auth = format!("Bearer {KEY}");
    let mut tokens: Vec<Token> = Vec::new();
    for i in 0..9 {
        let (status, created) = gw.request(
            "POST",
            "/v1/sessions",
            &[("authorization", &auth)],
            Some(&json!({"principal": format!("r{i}")})),
        );
        assert_eq!(status, 201, "{created}");
        let token: Token = created["token"].as_str().unwrap().parse().unwrap();
        let before: Vec<f64> = nodes.iter().map(|n| n.as_ref().unwrap().metric(VALIDATE)).collect();
        for _ in 0..3 {
            assert_eq!(validate(&gw, &token), 200);
        }
        let after: Vec<f64> = nodes.iter().map(|n| n.as_ref().unwrap().metric(VALIDATE)).collect();
        let primary = placement.primary(&PlacementKey::session(&token.sid)).unwrap();
        let owner = ids.iter().position(|id| id == primary).unwrap();
        for (n, (b, a)) in before.iter().zip(&after).enumerate() {
            let expected = if n == owner { 3.0 } else { 0.0 };
            assert_eq!(a - b, expected, "validations of a session reach its primary only (node {n})");
        }
        tokens.push(token);
    }

    let ranked: Vec<String> =
        placement.rank(&PlacementKey::session(&tokens[0].sid)).into_iter().map(str::to_owned).collect();
    let victim = ids.iter().position(|id| *id == ranked[0]).unwrap();
    let backup = ids.iter().position(|id| *id == ranked[1]).unwrap();
    let backup_before = nodes[backup].as_ref().unwrap().metric(VALIDATE);
    nodes[victim].take().unwrap().kill_and_reap();
    let killed = Instant::now();
    assert_eq!(validate(&gw, &tokens[0]), 200, "the first request after the kill succeeds");
    eprintln!("kill to first success: {:?}", killed.elapsed());
    assert_eq!(
        nodes[backup].as_ref().unwrap().metric(VALIDATE),
        backup_before + 1.0,
        "on the session's backup"
    );
    for token in &tokens {
        assert_eq!(validate(&gw, token), 200, "no session is lost with the node");
    }
}
