//! An origin (`continuum serve`) and an edge (`continuum edge`) as separate processes, the edge
//! reaching the origin through a relay the test can cut silently. Validation at the edge is
//! answered from its cache; a revocation at the origin is refused at the edge as soon as the
//! origin's event stream delivers it; with the stream cut (no FIN, only silence), a cached
//! session stops answering at the latest the cap after the stream was last heard — the edge then
//! asks the origin again, and refuses what it cannot check.

mod common;

use std::time::{Duration, Instant};

use common::edge::wait_for;
use common::relay::Relay;
use common::{Server, path};
use serde_json::{Value, json};

const KEY: &str = "ck_edge_sessions_test_key_0123456789abcdefghijk";
/// The edge's cap in this test (`--stream-cap-secs`).
const CAP: Duration = Duration::from_secs(2);
/// The edge's deadline on a call to the origin (`continuum_edge::origin::CALL_TIMEOUT`).
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// Scheduling slack on a loaded two-core machine.
const SLACK: Duration = Duration::from_millis(1500);

struct Setup {
    origin: Server,
    relay: Relay,
    edge: Server,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

fn setup() -> Setup {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let origin =
        Server::start(&["--memory", "--dev", "--data", path(dirs.0.path())], &[("CONTINUUM_API_KEY", KEY)]);
    let relay = Relay::start(&origin.addr);
    let cap = CAP.as_secs().to_string();
    let edge = common::edge::edge(&relay.url(), dirs.1.path(), KEY, &cap, &[]);
    let setup = Setup { origin, relay, edge, _dirs: dirs };
    wait_for("the edge to hear the origin's stream", Duration::from_secs(10), || {
        setup.edge.metric("continuum_edge_event_stream_connected") == 1.0
    });
    setup
}

/// A session of `principal` created at the origin: its sid and token.
fn login(origin: &Server, principal: &str) -> (String, String) {
    let bearer = format!("Bearer {KEY}");
    let (status, body) = origin.request(
        "POST",
        "/v1/sessions",
        &[("Authorization", &bearer)],
        Some(&json!({"principal": principal})),
    );
    assert_eq!(status, 201, "{body}");
    (body["session"]["sid"].as_str().unwrap().to_owned(), body["token"].as_str().unwrap().to_owned())
}

fn revoke(origin: &Server, sid: &str) {
    let bearer = format!("Bearer {KEY}");
    let (status, body) =
        origin.request("DELETE", &format!("/v1/sessions/{sid}"), &[("Authorization", &bearer)], None);
    assert_eq!(status, 204, "{body}");
}

/// `GET /v1/me` at the edge with `token`: the status and body.
fn me(edge: &Server, token: &str) -> (u16, Value) {
    edge.request("GET", "/v1/me", &[("Authorization", &format!("Session {token}"))], None)
}

#[test]
fn the_edge_validates_from_its_cache_and_refuses_a_revocation_pushed_by_the_origin() {
    let Setup { origin, relay: _relay, edge, _dirs } = setup();
    let (sid, token) = login(&origin, "alice");

    let (status, body) = me(&edge, &token);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["session"]["sid"].as_str(), body["session"]["principal"].as_str()),
        (Some(&*sid), Some("alice"))
    );
    let misses = edge.metric("continuum_edge_cache_misses_total");
    for _ in 0..5 {
        assert_eq!(me(&edge, &token).0, 200);
    }
    assert_eq!(edge.metric("continuum_edge_cache_misses_total"), misses, "answered from the cache");
    assert!(edge.metric("continuum_edge_cache_hits_total") >= 5.0);

    // The cached entry would answer for its 30 s TTL: only the pushed event refuses it sooner.
    let revoked_at = Instant::now();
    revoke(&origin, &sid);
    wait_for("the revocation to reach the edge", Duration::from_secs(1), || me(&edge, &token).0 == 401);
    let push = revoked_at.elapsed();
    assert_eq!(
        edge.metric("continuum_edge_cache_misses_total"),
        misses,
        "refused from the cache, not refetched"
    );
    let (status, body) = me(&edge, &token);
    assert_eq!((status, body["type"].as_str()), (401, Some("urn:continuum:problem:invalid-token")), "{body}");
    eprintln!("revocation refused at the edge {push:?} after the origin's 204");

    // A token the origin never issued, and one that does not parse: 401 problem+json, no panic.
    let (stranger, _) = (login(&origin, "bob").0, ());
    let forged = format!("{stranger}.{}", "A".repeat(43));
    assert_eq!(me(&edge, &forged).0, 401);
    let (status, body) = me(&edge, "not-a-token");
    assert_eq!((status, body["status"].as_u64()), (401, Some(401)), "{body}");
}

#[test]
fn with_the_event_stream_cut_silently_a_cached_session_is_refused_at_the_latest_after_the_cap() {
    let Setup { origin, relay, edge, _dirs } = setup();
    let (sid, token) = login(&origin, "carol");
    assert_eq!(me(&edge, &token).0, 200);

    relay.cut();
    let cut_at = Instant::now();
    revoke(&origin, &sid); // the edge cannot hear of it
    let (status, _) = me(&edge, &token);
    assert_eq!(status, 200, "within the cap the cache still answers, origin or not");
    let (mut refused, mut last_valid) = (None, Duration::ZERO);
    while cut_at.elapsed() < CAP + CALL_TIMEOUT + SLACK {
        let (status, body) = me(&edge, &token);
        if status == 200 {
            last_valid = cut_at.elapsed();
        } else {
            assert_eq!(status, 503, "the origin cannot be asked: fail closed ({body})");
            assert_eq!(body["status"].as_u64(), Some(503), "problem+json: {body}");
            refused = Some(cut_at.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let refused = refused.expect("refused after the cap");
    // No validation succeeds past the cap after the last thing heard (at most the cut); the one
    // refused waited for the origin up to the edge's call deadline first.
    assert!(last_valid < CAP + Duration::from_millis(300), "valid {last_valid:?} after the cut");
    assert!(
        last_valid + Duration::from_millis(1200) >= CAP,
        "the cache answered until about the cap (the stream was heard within a second of the cut): {last_valid:?}"
    );
    eprintln!("stream cut: refused {refused:?} after the cut (cap {CAP:?})");
    assert!(edge.metric("continuum_edge_origin_errors_total") >= 1.0);

    // Back: the edge asks the origin, which knows the session is revoked — never valid again.
    relay.heal();
    wait_for("the edge to reach the origin again", Duration::from_secs(10), || me(&edge, &token).0 == 401);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(me(&edge, &token).0, 401);
    wait_for("the stream to come back", Duration::from_secs(10), || {
        edge.metric("continuum_edge_event_stream_connected") == 1.0
    });
    let (_, fresh) = login(&origin, "carol");
    assert_eq!(me(&edge, &fresh).0, 200, "a live session validates again");
}

#[test]
fn origin_operations_are_forwarded_and_the_edge_routes_refuse_bad_input() {
    let Setup { origin, relay: _relay, edge, _dirs } = setup();
    let (sid, token) = login(&origin, "dave");
    let session = format!("Session {token}");
    let (status, body) = edge.request("GET", "/v1/me/devices", &[("Authorization", &session)], None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sessions"][0]["sid"].as_str(), Some(&*sid));
    assert!(edge.metric("continuum_edge_forwarded_total") >= 1.0);

    // Logging out at the edge revokes at the origin; the pushed event ends it at the edge.
    assert_eq!(me(&edge, &token).0, 200);
    let (status, _) =
        edge.request("DELETE", "/v1/me", &[("Authorization", &session), ("Origin", &edge.url())], None);
    assert_eq!(status, 204);
    let bearer = format!("Bearer {KEY}");
    let (_, body) =
        origin.request("GET", &format!("/v1/sessions/{sid}"), &[("Authorization", &bearer)], None);
    assert_eq!(body["session"]["status"].as_str(), Some("revoked"), "{body}");
    wait_for("the logout to reach the edge", Duration::from_secs(1), || me(&edge, &token).0 == 401);

    // The origin's routes for edges: the record, with the key only, strict about the sid.
    let record = format!("/v1/edge/sessions/{sid}");
    let (status, body) = origin.request("GET", &record, &[("Authorization", &bearer)], None);
    assert_eq!((status, body["status"].as_str()), (200, Some("revoked")), "{body}");
    assert!(body.get("secret_digest").is_some() && body.get("secret").is_none(), "a digest, never a secret");
    assert_eq!(origin.request("GET", &record, &[], None).0, 401);
    let (status, body) =
        origin.request("GET", "/v1/edge/sessions/not-a-sid", &[("Authorization", &bearer)], None);
    assert_eq!((status, body["status"].as_u64()), (400, Some(400)), "{body}");
    let unknown = format!("/v1/edge/sessions/{}", "A".repeat(22));
    assert_eq!(origin.request("GET", &unknown, &[("Authorization", &bearer)], None).0, 404);
    assert_eq!(
        origin.request("POST", &format!("{record}/touch"), &[("Authorization", &bearer)], None).0,
        404
    );
    let (_, live) = login(&origin, "dave");
    let live_sid = live.split('.').next().unwrap();
    let touch = format!("/v1/edge/sessions/{live_sid}/touch");
    assert_eq!(origin.request("POST", &touch, &[("Authorization", &bearer)], None).0, 204);
}
