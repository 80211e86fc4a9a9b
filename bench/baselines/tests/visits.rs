//! The tower-sessions visits app over a real loopback socket, on MemoryStore: login sets a
//! cookie, `/me` reads it, `/` counts visits, a new login starts from zero, logout forgets.

use continuum_baselines::load::Connection;
use continuum_baselines::visits;
use http::{Method, Request, StatusCode, header};
use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::Value;
use tower_sessions::MemoryStore;

/// One browser: a connection and the cookie it was last given.
struct Browser {
    connection: Connection,
    cookie: Option<String>,
}

impl Browser {
    async fn send(&mut self, method: Method, path: &str) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path).header(header::HOST, "localhost");
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let response = self.connection.send(request.body(Full::new(Bytes::new())).unwrap()).await.unwrap();
        if let Some(set) = response.headers().get(header::SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            // tower-sessions clears a cookie by setting it empty and already expired.
            self.cookie = if pair.ends_with('=') { None } else { Some(pair) };
        }
        let body = response.body();
        (response.status(), if body.is_empty() { Value::Null } else { serde_json::from_slice(body).unwrap() })
    }
}

#[tokio::test]
async fn logs_in_counts_visits_and_logs_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, visits::router(MemoryStore::default())).await });
    let mut browser = Browser { connection: Connection::open(addr).await.unwrap(), cookie: None };

    assert_eq!(
        browser.send(Method::GET, "/me").await,
        (StatusCode::OK, serde_json::json!({ "principal": null }))
    );
    let (status, login) = browser.send(Method::POST, "/login?user=alice").await;
    assert_eq!(status, StatusCode::OK);
    let first_cookie = browser.cookie.clone().expect("login sets a cookie");
    assert!(first_cookie.starts_with("id="), "{first_cookie}");
    assert_eq!(login["principal"], "alice");

    let (status, me) = browser.send(Method::GET, "/me").await;
    assert_eq!((status, &me), (StatusCode::OK, &login), "`/me` answers what login did");
    for expected in 1..=3 {
        let (_, visit) = browser.send(Method::GET, "/").await;
        assert_eq!((visit["principal"].as_str(), visit["visits"].as_u64()), (Some("alice"), Some(expected)));
    }

    let (_, again) = browser.send(Method::POST, "/login?user=bob").await;
    assert_ne!(browser.cookie.as_ref(), Some(&first_cookie), "a login gets a fresh session id");
    assert_ne!(again["sid"], login["sid"]);
    assert_eq!(browser.send(Method::GET, "/").await.1["visits"], 1, "a new login counts from zero");

    let stale = browser.cookie.clone();
    assert_eq!(browser.send(Method::POST, "/logout").await.0, StatusCode::NO_CONTENT);
    assert_eq!(browser.cookie, None, "logout clears the cookie");
    browser.cookie = stale;
    assert_eq!(browser.send(Method::GET, "/me").await.1["principal"], Value::Null, "the session is gone");
    assert_eq!(browser.send(Method::GET, "/devices").await.0, StatusCode::NOT_IMPLEMENTED);
}
