//! The visits example app over real sockets, in each mode, against a real Continuum server.

mod common;

#[path = "../examples/visits/app.rs"]
mod app;

use std::time::{Duration, Instant};

use common::{Browser, Continuum, serve};
use continuum_core::seal::{KeyRing, SealKey};
use continuum_tower::{ContinuumLayer, CookieConfig, RemoteConfig, SealedConfig};
use hyper::{Method, StatusCode};

fn remote(server: &Continuum, ttl: Duration) -> ContinuumLayer {
    let config = RemoteConfig {
        cookie: CookieConfig::dev(),
        cache_ttl: ttl,
        ..RemoteConfig::new(server.url(), common::KEY)
    };
    ContinuumLayer::remote(config)
}

fn sealed() -> ContinuumLayer {
    let keys = KeyRing::new(vec![SealKey::generate()]).unwrap();
    ContinuumLayer::sealed(SealedConfig { cookie: CookieConfig::dev(), ..SealedConfig::new(keys) })
}

/// Waits until the layer's event stream is connected: the cache answers only then.
async fn until_caching(server: &Continuum, browser: &Browser) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let before = server.validations().await;
        assert_eq!(browser.get("/me").await.status, StatusCode::OK);
        assert_eq!(browser.get("/me").await.status, StatusCode::OK);
        if server.validations().await - before <= 1 {
            return;
        }
        assert!(Instant::now() < deadline, "the cache never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn remote_login_counts_visits_lists_devices_and_logs_out() {
    let server = Continuum::start().await;
    let app = serve(app::router(remote(&server, Duration::from_secs(5)))).await;
    let mut browser = Browser::new(app);

    assert_eq!(browser.send(Method::GET, "/").await.json()["principal"], serde_json::Value::Null);
    let login = browser.send(Method::POST, "/login?user=alice").await;
    assert_eq!(login.status, StatusCode::OK);
    let set = &login.set_cookie[0];
    assert!(
        set.starts_with("session=")
            && set.contains("HttpOnly")
            && set.contains("SameSite=Lax")
            && set.contains("Path=/")
    );
    assert!(!set.contains("Max-Age"), "a browser-session cookie: {set}");
    for n in 1..=3 {
        let visit = browser.send(Method::GET, "/").await.json();
        assert_eq!((visit["principal"].as_str(), visit["visits"].as_u64()), (Some("alice"), Some(n)));
    }
    let devices = browser.send(Method::GET, "/devices").await.json();
    assert_eq!(devices["devices"].as_array().unwrap().len(), 1);
    assert_eq!(devices["devices"][0]["current"], true);

    let token = browser.cookie.clone().unwrap();
    let logout = browser.send(Method::POST, "/logout").await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert!(logout.set_cookie[0].contains("Max-Age=0"));
    assert!(browser.cookie.is_none());
    assert_eq!(browser.send(Method::GET, "/me").await.json()["principal"], serde_json::Value::Null);
    browser.cookie = Some(token);
    let replay = browser.send(Method::GET, "/me").await;
    assert!(replay.problem(401).contains("revoked"), "a logged-out token is refused");
    assert!(browser.cookie.is_none(), "and the layer clears it");
}

#[tokio::test]
async fn login_rotates_the_session_id_and_revokes_the_old_one() {
    let server = Continuum::start().await;
    let app = serve(app::router(remote(&server, Duration::from_secs(5)))).await;
    let mut browser = Browser::new(app);
    let first = browser.send(Method::POST, "/login?user=alice").await.json();
    let old_token = browser.cookie.clone().unwrap();
    let second = browser.send(Method::POST, "/login?user=alice").await.json();
    assert_ne!(first["sid"], second["sid"], "a fresh id at every login");
    assert_ne!(browser.cookie.as_deref(), Some(old_token.as_str()));
    assert_eq!(browser.send(Method::GET, "/me").await.json()["sid"], second["sid"]);
    let revoked =
        server.backend(Method::GET, &format!("/v1/sessions/{}", first["sid"].as_str().unwrap())).await;
    assert_eq!(revoked.json()["session"]["status"], "revoked");
}

#[tokio::test]
async fn a_cached_remote_layer_sees_a_revocation_within_a_second() {
    let server = Continuum::start().await;
    // An hour of TTL: only the event stream can explain the revocation being seen.
    let app = serve(app::router(remote(&server, Duration::from_secs(3600)))).await;
    let mut browser = Browser::new(app);
    let sid =
        browser.send(Method::POST, "/login?user=alice").await.json()["sid"].as_str().unwrap().to_owned();
    until_caching(&server, &browser).await;

    let revoked_at = Instant::now();
    assert_eq!(
        server.backend(Method::DELETE, &format!("/v1/sessions/{sid}")).await.status,
        StatusCode::NO_CONTENT
    );
    loop {
        let answer = browser.get("/me").await;
        if answer.status == StatusCode::UNAUTHORIZED {
            assert!(answer.problem(401).contains("revoked"));
            break;
        }
        assert!(revoked_at.elapsed() < Duration::from_secs(1), "still served from the cache after 1 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn without_cache_every_request_asks_the_server() {
    let server = Continuum::start().await;
    let app = serve(app::router(remote(&server, Duration::ZERO))).await;
    let mut browser = Browser::new(app);
    let sid = browser.send(Method::POST, "/login?user=bob").await.json()["sid"].as_str().unwrap().to_owned();
    let before = server.validations().await;
    for _ in 0..3 {
        assert_eq!(browser.get("/me").await.json()["principal"], "bob");
    }
    assert_eq!(server.validations().await - before, 3);
    server.backend(Method::DELETE, &format!("/v1/sessions/{sid}")).await;
    browser.get("/me").await.problem(401);
}

#[tokio::test]
async fn bad_cookies_get_a_clear_401_and_are_cleared() {
    let server = Continuum::start().await;
    for layer in [remote(&server, Duration::from_secs(5)), sealed()] {
        let app = serve(app::router(layer)).await;
        for bad in
            ["garbage", "cs~AAAA", "AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"]
        {
            let mut browser = Browser::new(app);
            browser.cookie = Some(bad.to_owned());
            let answer = browser.send(Method::GET, "/me").await;
            let detail = answer.problem(401);
            assert!(!detail.is_empty());
            assert!(answer.set_cookie[0].contains("Max-Age=0"), "{bad}: the bad cookie is cleared");
            assert!(browser.cookie.is_none());
        }
    }
}

#[tokio::test]
async fn sealed_mode_logs_in_counts_and_logs_out_without_a_server() {
    let app = serve(app::router(sealed())).await;
    let mut browser = Browser::new(app);
    let login = browser.send(Method::POST, "/login?user=carol").await.json();
    assert!(browser.cookie.as_deref().unwrap().starts_with("cs~"));
    for n in 1..=3 {
        let before = browser.cookie.clone();
        let visit = browser.send(Method::GET, "/").await.json();
        assert_eq!((visit["sid"].clone(), visit["visits"].as_u64()), (login["sid"].clone(), Some(n)));
        assert_ne!(browser.cookie, before, "the new count is sealed into a new cookie");
    }
    assert!(browser.send(Method::GET, "/devices").await.problem(501).contains("sealed"));

    let mut forged = browser.cookie.clone().unwrap();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let mut attacker = Browser::new(app);
    attacker.cookie = Some(forged);
    attacker.send(Method::GET, "/me").await.problem(401);

    let logout = browser.send(Method::POST, "/logout").await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT);
    assert!(browser.cookie.is_none());
    assert_eq!(browser.send(Method::GET, "/me").await.json()["principal"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_sealed_token_from_a_foreign_key_ring_is_refused() {
    let mut mine = Browser::new(serve(app::router(sealed())).await);
    mine.send(Method::POST, "/login?user=dave").await;
    let mut other = Browser::new(serve(app::router(sealed())).await);
    other.cookie = mine.cookie.clone();
    assert!(other.send(Method::GET, "/me").await.problem(401).contains("key"));
}

#[tokio::test]
async fn a_sealed_token_resealed_after_a_touch_replaces_the_cookie() {
    let keys = KeyRing::new(vec![SealKey::generate()]).unwrap();
    let policy = continuum_core::SessionPolicy { touch_fraction: 0.0, ..Default::default() };
    let layer = ContinuumLayer::sealed(SealedConfig {
        cookie: CookieConfig::dev(),
        policy,
        ..SealedConfig::new(keys)
    });
    let mut browser = Browser::new(serve(app::router(layer)).await);
    browser.send(Method::POST, "/login?user=erin").await;
    let issued = browser.cookie.clone().unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let answer = browser.send(Method::GET, "/me").await;
    assert_eq!(answer.json()["principal"], "erin");
    assert_eq!(answer.set_cookie.len(), 1, "a due touch re-seals the session into the cookie");
    assert_ne!(browser.cookie.as_deref(), Some(issued.as_str()));
    assert!(browser.cookie.as_deref().unwrap().starts_with("cs~"));
}

#[tokio::test]
async fn a_remote_layer_with_sealed_tokens_logs_in_and_sees_a_sign_out_everywhere_within_a_second() {
    let server = Continuum::start().await;
    let config = RemoteConfig {
        cookie: CookieConfig::dev(),
        sealed_tokens: true,
        cache_ttl: Duration::from_secs(60),
        ..RemoteConfig::new(server.url(), common::KEY)
    };
    let mut browser = Browser::new(serve(app::router(ContinuumLayer::remote(config))).await);
    browser.send(Method::POST, "/login?user=frank").await;
    assert!(browser.cookie.as_deref().unwrap().starts_with("cs~"));
    assert_eq!(browser.send(Method::GET, "/me").await.json()["principal"], "frank");
    until_caching(&server, &browser).await;
    let everywhere = server.backend(Method::DELETE, "/v1/principals/frank/sessions").await;
    assert_eq!(everywhere.status, StatusCode::OK);
    // A sealed token has no per-session event: the `signed_out_everywhere` event drops the
    // principal's cached entries, well within the cache's 60 s TTL.
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let answer = browser.send(Method::GET, "/me").await;
        if answer.status == StatusCode::UNAUTHORIZED {
            assert!(answer.problem(401).contains("everywhere"));
            break;
        }
        assert!(Instant::now() < deadline, "the cached sealed token still answered after a second");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_lost_event_stream_stops_the_cache_from_answering() {
    let mut server = Continuum::start().await;
    let app = serve(app::router(remote(&server, Duration::from_secs(3600)))).await;
    let mut browser = Browser::new(app);
    browser.send(Method::POST, "/login?user=gina").await;
    until_caching(&server, &browser).await;
    // Fault: the server goes away. Revocations could now go unseen, so the cache must not keep
    // answering for the hour its TTL allows: the layer says the service is unavailable.
    server.stop();
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let answer = browser.get("/me").await;
        if answer.status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(answer.problem(503).contains("unavailable"));
            break;
        }
        assert_eq!(answer.status, StatusCode::OK);
        assert!(Instant::now() < deadline, "the cache kept answering without its event stream");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_wrong_api_key_is_a_503_and_never_logs_the_user_out() {
    let server = Continuum::start().await;
    let mut good = Browser::new(serve(app::router(remote(&server, Duration::from_secs(5)))).await);
    good.send(Method::POST, "/login?user=hana").await;
    let config =
        RemoteConfig { cookie: CookieConfig::dev(), ..RemoteConfig::new(server.url(), "not-the-key") };
    let mut misconfigured = Browser::new(serve(app::router(ContinuumLayer::remote(config))).await);
    misconfigured.cookie = good.cookie.clone();
    let answer = misconfigured.send(Method::GET, "/me").await;
    assert!(answer.problem(503).contains("unavailable"));
    assert!(answer.set_cookie.is_empty(), "the user's cookie is kept");
    assert_eq!(good.send(Method::GET, "/me").await.json()["principal"], "hana");
}
