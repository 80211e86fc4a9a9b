//! The HTTP contract, end to end over a real loopback socket and the embedded redb store.

mod common;

use common::{KEY, TestServer};
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

fn assert_rfc3339(value: &Value) {
    let text = value.as_str().expect("a time is a string");
    assert!(text.len() >= 20 && text.ends_with('Z') && text.as_bytes()[10] == b'T', "not RFC 3339: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_plane_session_lifecycle() {
    let server = TestServer::start().await;
    let answer = server
        .backend(
            Method::POST,
            "/v1/sessions",
            Some(json!({
                "principal": "alice",
                "device": {"label": "Work laptop", "user_agent": "Firefox/140"},
                "attributes": {"theme": "dark", "cart": {"items": 1}},
                "idle_timeout_secs": 600,
                "absolute_timeout_secs": 3600
            })),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(answer.header("etag"), Some("\"1\""));
    let body = answer.json();
    let token = body["token"].as_str().unwrap().to_owned();
    let session = &body["session"];
    let (sid, secret) = token.split_once('.').unwrap();
    assert_eq!((sid.len(), secret.len()), (22, 43));
    assert_eq!(session["sid"], sid);
    assert_eq!(session["principal"], "alice");
    assert_eq!(session["device"], json!({"label": "Work laptop", "user_agent": "Firefox/140"}));
    assert_eq!(session["attributes"], json!({"theme": "dark", "cart": {"items": 1}}));
    assert_eq!((session["version"].clone(), session["status"].clone()), (json!(1), json!("active")));
    assert_eq!(session["idle_timeout_secs"], 600);
    for field in ["created_at", "last_seen_at", "expires_at", "absolute_expires_at"] {
        assert_rfc3339(&session[field]);
    }
    assert!(!session.to_string().contains(secret), "the session object never holds the secret");

    // Validate: the hot path.
    let valid = server.backend(Method::POST, "/v1/sessions/validate", Some(json!({ "token": token }))).await;
    assert_eq!(valid.status, StatusCode::OK);
    assert_eq!(valid.json()["session"]["sid"], sid);
    let forged = format!("{sid}.{}", "A".repeat(43));
    let refused =
        server.backend(Method::POST, "/v1/sessions/validate", Some(json!({ "token": forged }))).await;
    assert!(refused.problem(401).contains("not recognised"));

    // Read.
    let got = server.backend(Method::GET, &format!("/v1/sessions/{sid}"), None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.header("etag"), Some("\"1\""));
    assert_eq!(got.json()["session"]["attributes"]["theme"], "dark");

    // Patch: merge, conditional.
    let path = format!("/v1/sessions/{sid}/attributes");
    let patched = server
        .backend_with(
            Method::PATCH,
            &path,
            &[("if-match", "\"1\"")],
            Some(json!({"theme": null, "cart": {"items": 2}, "step": 3})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", String::from_utf8_lossy(&patched.body));
    assert_eq!(patched.header("etag"), Some("\"2\""));
    assert_eq!(patched.json()["session"]["attributes"], json!({"cart": {"items": 2}, "step": 3}));
    let stale =
        server.backend_with(Method::PATCH, &path, &[("if-match", "\"1\"")], Some(json!({"x": 1}))).await;
    assert!(stale.problem(412).contains("version 2"));
    let merge_type = server
        .request(
            Method::PATCH,
            &path,
            &[("authorization", &format!("Bearer {KEY}")), ("content-type", "application/merge-patch+json")],
            Some(br#"{"step": 4}"#.to_vec()),
        )
        .await;
    assert_eq!(merge_type.status, StatusCode::OK);
    assert_eq!(merge_type.json()["session"]["attributes"]["step"], 4);

    // Rotate: a new secret, the old one valid for the grace window.
    let rotated = server.backend(Method::POST, &format!("/v1/sessions/{sid}/rotate"), None).await;
    assert_eq!(rotated.status, StatusCode::OK);
    let new_token = rotated.json()["token"].as_str().unwrap().to_owned();
    assert!(new_token.starts_with(sid) && new_token != token);
    assert_eq!(rotated.json()["session"]["version"], 4);
    for t in [&token, &new_token] {
        let answer = server.backend(Method::POST, "/v1/sessions/validate", Some(json!({ "token": t }))).await;
        assert_eq!(answer.status, StatusCode::OK);
    }

    // Revoke: a tombstone.
    let revoked = server.backend(Method::DELETE, &format!("/v1/sessions/{sid}"), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let again = server.backend(Method::DELETE, &format!("/v1/sessions/{sid}"), None).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT, "revoking is idempotent");
    let refused =
        server.backend(Method::POST, "/v1/sessions/validate", Some(json!({ "token": new_token }))).await;
    assert!(refused.problem(401).contains("revoked"));
    let tombstone = server.backend(Method::GET, &format!("/v1/sessions/{sid}"), None).await;
    assert_eq!(tombstone.json()["session"]["status"], "revoked");
    let gone = server.backend(Method::PATCH, &path, Some(json!({"x": 1}))).await;
    assert!(gone.problem(410).contains("revoked"));
    let gone = server.backend(Method::POST, &format!("/v1/sessions/{sid}/rotate"), None).await;
    gone.problem(410);

    let unknown = server.backend(Method::GET, "/v1/sessions/AAAAAAAAAAAAAAAAAAAAAA", None).await;
    unknown.problem(404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn principal_sessions_list_and_revoke_all() {
    let server = TestServer::start().await;
    let mut sids = Vec::new();
    for label in ["phone", "laptop", "tablet"] {
        let (_, session) =
            server.create_session(json!({"principal": "bob@example.com", "device": {"label": label}})).await;
        sids.push(session["sid"].as_str().unwrap().to_owned());
        // Listed oldest first by millisecond creation time (then by sid): keep them apart.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.create_session(json!({"principal": "carol"})).await;
    let list = server.backend(Method::GET, "/v1/principals/bob@example.com/sessions", None).await;
    assert_eq!(list.status, StatusCode::OK);
    let listed: Vec<_> = list.json()["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, sids, "oldest first, only bob's");

    let answer = server
        .backend(Method::DELETE, &format!("/v1/principals/bob@example.com/sessions?except={}", sids[1]), None)
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.json(), json!({"revoked": 2, "epoch": 1}));
    let list = server.backend(Method::GET, "/v1/principals/bob@example.com/sessions", None).await;
    assert_eq!(list.json()["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(list.json()["sessions"][0]["sid"], sids[1].as_str());
    let carol = server.backend(Method::GET, "/v1/principals/carol/sessions", None).await;
    assert_eq!(carol.json()["sessions"].as_array().unwrap().len(), 1);
    let nobody = server.backend(Method::GET, "/v1/principals/nobody/sessions", None).await;
    assert_eq!(nobody.json(), json!({"sessions": []}));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_plane_me_devices_logout() {
    let server = TestServer::start().await;
    let (phone, phone_session) =
        server.create_session(json!({"principal": "dana", "device": {"label": "phone"}})).await;
    // Devices are listed oldest first by their millisecond creation time (then by sid): two
    // sessions made in the same millisecond would come in sid order, so keep them apart.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (laptop, laptop_session) =
        server.create_session(json!({"principal": "dana", "device": {"label": "laptop"}})).await;
    let (eve, eve_session) = server.create_session(json!({"principal": "eve"})).await;

    let by_header = format!("Session {phone}");
    let me = server.get("/v1/me", &[("authorization", &by_header)]).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["session"]["sid"], phone_session["sid"]);
    let cookie = format!("other=1; __Host-continuum={laptop}");
    let me = server.get("/v1/me", &[("cookie", &cookie)]).await;
    assert_eq!(me.json()["session"]["sid"], laptop_session["sid"]);
    assert!(server.get("/v1/me", &[]).await.problem(401).contains("sign in"));
    assert!(
        server.get("/v1/me", &[("authorization", "Session nope")]).await.problem(401).contains("malformed")
    );
    assert!(
        server
            .get("/v1/me", &[("authorization", &format!("Bearer {KEY}"))])
            .await
            .problem(401)
            .contains("Session <token>")
    );

    let devices = server.get("/v1/me/devices", &[("authorization", &by_header)]).await;
    let devices = devices.json();
    assert_eq!(devices["current"], phone_session["sid"]);
    let labels: Vec<_> =
        devices["sessions"].as_array().unwrap().iter().map(|s| s["device"]["label"].clone()).collect();
    assert_eq!(labels, vec![json!("phone"), json!("laptop")]);

    // Another principal's session is not found; one's own other device is signed out.
    let eve_sid = eve_session["sid"].as_str().unwrap();
    server
        .request(Method::DELETE, &format!("/v1/me/devices/{eve_sid}"), &[("authorization", &by_header)], None)
        .await
        .problem(404);
    assert_eq!(
        server.get("/v1/me", &[("authorization", &format!("Session {eve}"))]).await.status,
        StatusCode::OK
    );
    let laptop_sid = laptop_session["sid"].as_str().unwrap();
    let signed_out = server
        .request(
            Method::DELETE,
            &format!("/v1/me/devices/{laptop_sid}"),
            &[("authorization", &by_header)],
            None,
        )
        .await;
    assert_eq!(signed_out.status, StatusCode::NO_CONTENT);
    let refused = server.get("/v1/me", &[("cookie", &cookie)]).await;
    assert!(refused.problem(401).contains("revoked"));
    assert!(
        refused.header("set-cookie").is_some_and(|c| c.contains("Max-Age=0")),
        "a dead cookie is cleared"
    );

    // Log out clears the cookie and revokes the session.
    let phone_cookie = format!("__Host-continuum={phone}");
    // A browser names its page's origin on a DELETE; the cookie is accepted only from this one.
    let own_origin = format!("https://{}", server.addr);
    let logout = server
        .request(Method::DELETE, "/v1/me", &[("cookie", &phone_cookie), ("origin", &own_origin)], None)
        .await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    let cleared = logout.header("set-cookie").unwrap();
    assert!(cleared.starts_with("__Host-continuum=;") && cleared.contains("Max-Age=0"), "{cleared}");
    server.get("/v1/me", &[("authorization", &by_header)]).await.problem(401);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guest_sessions_are_opt_in_cookied_and_rate_limited() {
    let disabled = TestServer::start().await;
    assert!(disabled.request(Method::POST, "/v1/guest", &[], None).await.problem(404).contains("disabled"));
    disabled.stop().await;

    let server = TestServer::start_with(|config| {
        config.guest.enabled = true;
        config.guest.burst = 2;
        config.guest.per_minute = 1;
    })
    .await;
    let mut principals = Vec::new();
    for _ in 0..2 {
        let answer = server.request(Method::POST, "/v1/guest", &[("user-agent", "Chromium/156")], None).await;
        assert_eq!(answer.status, StatusCode::CREATED);
        let cookie = answer.header("set-cookie").unwrap().to_owned();
        assert!(cookie.starts_with("__Host-continuum="), "{cookie}");
        for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
        }
        assert!(answer.json().get("token").is_none(), "a guest token travels only in the cookie");
        let session = answer.json()["session"].clone();
        assert!(session["principal"].as_str().unwrap().starts_with("anon:"));
        assert_eq!(session["device"]["user_agent"], "Chromium/156");
        let pair = cookie.split(';').next().unwrap();
        let me = server.get("/v1/me", &[("cookie", pair)]).await;
        assert_eq!(me.json()["session"]["sid"], session["sid"]);
        principals.push(session["principal"].clone());
    }
    assert_ne!(principals[0], principals[1]);
    let limited = server.request(Method::POST, "/v1/guest", &[], None).await;
    assert!(limited.problem(429).contains("retry"));
    assert!(limited.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    server.stop().await;

    let dev = TestServer::start_with(|config| {
        config.guest.enabled = true;
        config.dev = true;
    })
    .await;
    let answer = dev.request(Method::POST, "/v1/guest", &[], None).await;
    let cookie = answer.header("set-cookie").unwrap();
    assert!(cookie.starts_with("continuum=") && !cookie.contains("Secure"), "{cookie}");
    dev.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_endpoints() {
    let server = TestServer::start().await;
    assert_eq!(server.get("/healthz", &[]).await.json(), json!({"status": "ok"}));
    assert_eq!(server.get("/readyz", &[]).await.status, StatusCode::OK);
    assert_eq!(&server.get("/hello", &[]).await.body[..], b"hello");
    for _ in 0..3 {
        server.create_session(json!({"principal": "frank"})).await;
    }
    let metrics = server.get("/metrics", &[]).await;
    let text = String::from_utf8(metrics.body.to_vec()).unwrap();
    assert!(text.contains("continuum_sessions 3"), "{text}");
    let created = text
        .lines()
        .find(|l| {
            l.starts_with("continuum_http_requests_total")
                && l.contains("route=\"/v1/sessions\"")
                && l.contains("status=\"201\"")
        })
        .unwrap_or_else(|| panic!("no request counter in {text}"));
    assert!(created.ends_with(" 3"), "{created}");
    let commits = text
        .lines()
        .find(|l| l.starts_with("continuum_store_commit_batch_size_count"))
        .expect("batch histogram");
    let count: f64 = commits.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 1.0, "{commits}");
    assert!(text.contains("continuum_process_resident_memory_bytes "));
    assert!(text.contains("continuum_http_request_duration_seconds_bucket"));
    server.get("/nowhere", &[]).await.problem(404);
    server.request(Method::PUT, "/v1/sessions", &[], None).await.problem(405);
    server.stop().await;
}
