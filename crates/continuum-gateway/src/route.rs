//! The route key of a request — which session, document or one-time code it is about — read
//! from its method, path, headers and (already read) body. Pure: no I/O, no state.
//!
//! Order, first match wins: a ticketed sync socket (its ticket), a document path (scope and
//! name; an edge's downstream `/v1/edge/sync/{scope}/{name}` too), a `/v1/sessions/{sid}` path, a handoff redemption (its code), `Authorization: Session`,
//! the session cookie, and the token in a `POST /v1/sessions/validate` body. Documents come
//! before the caller's session so every socket of one document meets on one node. A sealed
//! token (`cs~…`) carries its sid encrypted: it gives no key, and needs none (the session is in
//! the token; see docs/design.md).

use std::borrow::Cow;
use std::net::IpAddr;

use continuum_core::cookie::{SessionCookie, find_cookie};
use continuum_core::{AnyToken, DocKey, HandoffCode, PlacementKey, SessionId};
use http::{HeaderMap, Method, header};

use crate::config::Affinity;

/// A one-time credential that only the node which issued it can redeem.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OneTimeKey {
    /// A handoff code, normalised as [`HandoffCode::parse`] does.
    Handoff(String),
    /// A sync ticket (`?ticket=` of a sync socket).
    Ticket(String),
}

/// Where a request should go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// The owners of this key, in placement order.
    Key(PlacementKey),
    /// The node that issued this code, when the gateway remembers it; otherwise `fallback`.
    Issuer {
        /// The code.
        code: OneTimeKey,
        /// Where to go when the issuer is unknown or down.
        fallback: Option<PlacementKey>,
    },
    /// No key: the least-loaded live node.
    LeastLoaded,
    /// The gateway's own `/metrics`.
    GatewayMetrics,
}

/// What a request is, as far as routing needs: borrowed parts of it.
#[derive(Clone, Copy, Debug)]
pub struct RequestFacts<'a> {
    /// The method.
    pub method: &'a Method,
    /// The path, still percent-encoded.
    pub path: &'a str,
    /// The query string, if any.
    pub query: Option<&'a str>,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The body as read (empty for a socket upgrade).
    pub body: &'a [u8],
    /// The client's address (the TCP peer of the gateway).
    pub client: IpAddr,
}

/// The route of a request under `affinity`.
pub fn route(facts: &RequestFacts<'_>, affinity: Affinity) -> Route {
    if facts.method == Method::GET && facts.path == "/metrics" {
        return Route::GatewayMetrics;
    }
    let by_sid = route_by_sid(facts);
    match (affinity, by_sid) {
        (Affinity::Sid, route) => route,
        // One-time codes live on their issuer in either mode: that is correctness, not affinity.
        (Affinity::Ip, Route::Issuer { code, .. }) => {
            Route::Issuer { code, fallback: Some(PlacementKey::client(facts.client)) }
        }
        (Affinity::Ip, _) => Route::Key(PlacementKey::client(facts.client)),
    }
}

fn route_by_sid(facts: &RequestFacts<'_>) -> Route {
    let segments: Vec<&str> = facts.path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["v1", kind @ ("sync" | "docs"), scope, name, ..] if *kind == "docs" || segments.len() == 4 => {
            let doc = doc_key(scope, name).map(|doc| PlacementKey::doc(&doc));
            let ticket = (*kind == "sync").then(|| query_value(facts.query, "ticket")).flatten();
            match (ticket, doc) {
                (Some(ticket), fallback) => {
                    return Route::Issuer { code: OneTimeKey::Ticket(ticket), fallback };
                }
                (None, Some(doc)) => return Route::Key(doc),
                (None, None) => {}
            }
        }
        // An edge's downstream of one document goes where the document's devices go.
        ["v1", "edge", "sync", scope, name] => {
            if let Some(doc) = doc_key(scope, name) {
                return Route::Key(PlacementKey::doc(&doc));
            }
        }
        ["v1", "sessions", sid, ..] if *sid != "validate" => {
            if let Ok(sid) = SessionId::parse(sid) {
                return Route::Key(PlacementKey::session(&sid));
            }
        }
        ["v1", "handoff", "redeem"] if facts.method == Method::POST => {
            if let Some(code) =
                body_as::<CodeField>(facts.body).and_then(|body| HandoffCode::parse(&body.code).ok())
            {
                let fallback = caller_sid(facts.headers).map(|sid| PlacementKey::session(&sid));
                return Route::Issuer { code: OneTimeKey::Handoff(code.to_string()), fallback };
            }
        }
        _ => {}
    }
    if let Some(sid) = caller_sid(facts.headers) {
        return Route::Key(PlacementKey::session(&sid));
    }
    if facts.method == Method::POST
        && facts.path == "/v1/sessions/validate"
        && let Some(sid) = body_as::<TokenField>(facts.body).and_then(|body| stored_sid(&body.token))
    {
        return Route::Key(PlacementKey::session(&sid));
    }
    Route::LeastLoaded
}

/// The sid of the caller's own session: `Authorization: Session <token>`, else the session
/// cookie (`__Host-continuum`, else the development `continuum`).
pub fn caller_sid(headers: &HeaderMap) -> Option<SessionId> {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
    if let Some(token) = authorization.and_then(|value| value.strip_prefix("Session ")) {
        return stored_sid(token.trim());
    }
    let cookie = SessionCookie::continuum(false);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| {
            find_cookie(value, cookie.secure_name).or_else(|| find_cookie(value, cookie.dev_name))
        })
        .and_then(stored_sid)
}

/// The sid of a stored token; `None` for a sealed token or anything malformed.
fn stored_sid(token: &str) -> Option<SessionId> {
    match AnyToken::parse(token) {
        Ok(AnyToken::Stored(token)) => Some(token.sid),
        Ok(AnyToken::Sealed(_)) | Err(_) => None,
    }
}

/// `{"token": "…"}` (other fields skipped), the string borrowed from the body unless it has
/// escapes: a validate's body is read on every validate, without building the document.
#[derive(serde::Deserialize)]
struct TokenField<'a> {
    #[serde(borrow)]
    token: Cow<'a, str>,
}

/// `{"code": "…"}`, other fields skipped.
#[derive(serde::Deserialize)]
struct CodeField<'a> {
    #[serde(borrow)]
    code: Cow<'a, str>,
}

/// `{"ticket": "…"}`, other fields skipped.
#[derive(serde::Deserialize)]
struct TicketField<'a> {
    #[serde(borrow)]
    ticket: Cow<'a, str>,
}

/// A JSON object body as `T`; `None` if it is not JSON or lacks `T`'s field as a string.
fn body_as<'a, T: serde::Deserialize<'a>>(body: &'a [u8]) -> Option<T> {
    serde_json::from_slice(body).ok()
}

/// A document from its percent-encoded path segments.
fn doc_key(scope: &str, name: &str) -> Option<DocKey> {
    DocKey::parse(&percent_decode(scope)?, &percent_decode(name)?).ok()
}

/// The first value of `name` in a query string (values are base64url tickets: not decoded).
fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, v)| v.to_owned())
}

/// Decodes `%XX` escapes; `None` if an escape is malformed or the result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The code or ticket a node issued in a successful answer to `method path`, to remember which
/// node holds it: `POST /v1/me/handoff` (`code`) and `POST /v1/sync/ticket` (`ticket`), 201.
pub fn issued_code(method: &Method, path: &str, status: u16, body: &[u8]) -> Option<OneTimeKey> {
    if method != Method::POST || status != 201 {
        return None;
    }
    match path {
        "/v1/me/handoff" => Some(OneTimeKey::Handoff(body_as::<CodeField>(body)?.code.into_owned())),
        "/v1/sync/ticket" => Some(OneTimeKey::Ticket(body_as::<TicketField>(body)?.ticket.into_owned())),
        _ => None,
    }
}

/// Whether sending `method path` twice does no more than sending it once: reads (`GET`,
/// `HEAD`, `OPTIONS`), and `POST /v1/sessions/validate`, whose only effect — the touch — is the
/// same if repeated.
pub fn idempotent(method: &Method, path: &str) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || (method == Method::POST && path == "/v1/sessions/validate")
}

/// Whether the answer to `method path` may carry a code to remember (so its body is read).
pub fn may_issue_code(method: &Method, path: &str) -> bool {
    method == Method::POST && matches!(path, "/v1/me/handoff" | "/v1/sync/ticket")
}

#[cfg(test)]
mod tests {
    use super::*;
    use continuum_core::Token;
    use http::HeaderValue;

    const CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 1, 2, 3));

    fn facts<'a>(
        method: &'a Method,
        target: &'a str,
        headers: &'a HeaderMap,
        body: &'a [u8],
    ) -> RequestFacts<'a> {
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (target, None),
        };
        RequestFacts { method, path, query, headers, body, client: CLIENT }
    }

    fn sid_route(method: Method, target: &str, headers: &[(&'static str, String)], body: &str) -> Route {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        route(&facts(&method, target, &map, body.as_bytes()), Affinity::Sid)
    }

    fn session(token: &Token) -> Route {
        Route::Key(PlacementKey::session(&token.sid))
    }

    #[test]
    fn the_caller_session_is_read_from_the_header_then_the_cookies() {
        let (a, b) = (Token::generate(), Token::generate());
        let by_header = [("authorization", format!("Session {a}")), ("cookie", format!("continuum={b}"))];
        assert_eq!(sid_route(Method::GET, "/v1/me", &by_header, ""), session(&a));
        let secure = [("cookie", format!("x=1; __Host-continuum={a}")), ("cookie", format!("continuum={b}"))];
        assert_eq!(sid_route(Method::GET, "/v1/me", &secure, ""), session(&a));
        let dev = [("cookie", format!("other=1; continuum={b}"))];
        assert_eq!(sid_route(Method::DELETE, "/v1/me/devices/xyz", &dev, ""), session(&b));
    }

    #[test]
    fn paths_with_a_sid_route_by_it() {
        let token = Token::generate();
        for target in [format!("/v1/sessions/{}", token.sid), format!("/v1/sessions/{}/rotate", token.sid)] {
            assert_eq!(sid_route(Method::POST, &target, &[], ""), session(&token), "{target}");
        }
        assert_eq!(sid_route(Method::GET, "/v1/sessions/not-a-sid", &[], ""), Route::LeastLoaded);
    }

    #[test]
    fn validate_routes_by_the_token_in_its_body() {
        let token = Token::generate();
        let body = format!(r#"{{"token": "{token}"}}"#);
        let bearer = [("authorization", "Bearer ck_x".to_owned())];
        assert_eq!(sid_route(Method::POST, "/v1/sessions/validate", &bearer, &body), session(&token));
        for body in [r#"{"token": "cs~AAAA"}"#, r#"{"token": 3}"#, "not json", ""] {
            assert_eq!(
                sid_route(Method::POST, "/v1/sessions/validate", &bearer, body),
                Route::LeastLoaded,
                "{body}"
            );
        }
    }

    #[test]
    fn documents_route_by_scope_and_name_before_the_session() {
        let token = Token::generate();
        let cookie = [("cookie", format!("continuum={token}"))];
        let doc = Route::Key(PlacementKey::doc(&DocKey::parse("user:a/b", "draft").unwrap()));
        assert_eq!(sid_route(Method::GET, "/v1/sync/user:a%2Fb/draft", &cookie, ""), doc);
        assert_eq!(sid_route(Method::PATCH, "/v1/docs/user:a%2Fb/draft", &cookie, ""), doc);
        assert_eq!(sid_route(Method::POST, "/v1/docs/user:a%2Fb/draft/versions/3/restore", &[], ""), doc);
        assert_eq!(
            sid_route(Method::GET, "/v1/edge/sync/user:a%2Fb/draft", &[], ""),
            doc,
            "an edge's downstream"
        );
        assert_eq!(
            sid_route(Method::GET, "/v1/edge/sync/group:x/draft", &[], ""),
            Route::LeastLoaded,
            "bad scope"
        );
        assert_eq!(
            sid_route(Method::GET, "/v1/docs/group:x/draft", &cookie, ""),
            session(&token),
            "bad scope"
        );
        let ticketed = sid_route(Method::GET, "/v1/sync/user:a%2Fb/draft?acks=1&ticket=T1", &[], "");
        let fallback = Some(PlacementKey::doc(&DocKey::parse("user:a/b", "draft").unwrap()));
        assert_eq!(ticketed, Route::Issuer { code: OneTimeKey::Ticket("T1".into()), fallback });
    }

    #[test]
    fn a_sealed_session_and_keyless_requests_go_to_the_least_loaded() {
        let sealed = [("authorization", "Session cs~AAAAAAAA".to_owned())];
        assert_eq!(sid_route(Method::GET, "/v1/me", &sealed, ""), Route::LeastLoaded);
        assert_eq!(sid_route(Method::POST, "/v1/sessions", &[], "{}"), Route::LeastLoaded);
        assert_eq!(sid_route(Method::GET, "/readyz", &[], ""), Route::LeastLoaded);
        assert_eq!(sid_route(Method::GET, "/metrics", &[], ""), Route::GatewayMetrics);
    }

    #[test]
    fn a_redemption_goes_to_the_issuer_of_its_code() {
        let route = sid_route(Method::POST, "/v1/handoff/redeem", &[], r#"{"code": "abcd-efgh"}"#);
        assert_eq!(route, Route::Issuer { code: OneTimeKey::Handoff("ABCDEFGH".into()), fallback: None });
        let issued =
            issued_code(&Method::POST, "/v1/me/handoff", 201, br#"{"code":"ABCDEFGH","expires_at":"x"}"#);
        assert_eq!(issued, Some(OneTimeKey::Handoff("ABCDEFGH".into())));
        assert_eq!(
            issued_code(&Method::POST, "/v1/sync/ticket", 201, br#"{"ticket":"T"}"#),
            Some(OneTimeKey::Ticket("T".into()))
        );
        assert_eq!(issued_code(&Method::POST, "/v1/me/handoff", 429, br#"{"code":"ABCDEFGH"}"#), None);
    }

    #[test]
    fn ip_affinity_routes_everything_by_the_client_but_codes_by_their_issuer() {
        let token = Token::generate();
        let mut headers = HeaderMap::new();
        headers.insert("cookie", HeaderValue::from_str(&format!("continuum={token}")).unwrap());
        let by_ip = Route::Key(PlacementKey::client(CLIENT));
        for target in ["/v1/me", "/v1/sync/user:a/b", "/v1/sessions"] {
            assert_eq!(route(&facts(&Method::GET, target, &headers, b""), Affinity::Ip), by_ip, "{target}");
        }
        let redeem = facts(&Method::POST, "/v1/handoff/redeem", &headers, br#"{"code":"ABCDEFGH"}"#);
        assert!(matches!(route(&redeem, Affinity::Ip), Route::Issuer { .. }));
    }

    #[test]
    fn reads_and_validations_are_safe_to_send_twice_and_writes_are_not() {
        assert!(idempotent(&Method::GET, "/v1/me") && idempotent(&Method::POST, "/v1/sessions/validate"));
        for (method, path) in
            [(Method::POST, "/v1/sessions"), (Method::DELETE, "/v1/me"), (Method::PATCH, "/v1/docs/a/b")]
        {
            assert!(!idempotent(&method, path), "{method} {path}");
        }
    }

    #[test]
    fn percent_decoding_refuses_broken_escapes() {
        assert_eq!(percent_decode("a%2Fb%3a").as_deref(), Some("a/b:"));
        assert_eq!(percent_decode("a%2"), None);
        assert_eq!(percent_decode("a%zz"), None);
        assert_eq!(percent_decode("%ff"), None);
    }
}
