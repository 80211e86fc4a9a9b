//! The session cookie: its name (from [`SessionCookie::continuum`], shared with the gateway and
//! the edge), the `Set-Cookie` values that set and clear it, and reading it.
//!
//! Reading a `Cookie` header is a split on `;` and `=` ([`continuum_core::cookie::find_cookie`]);
//! a crate would add a dependency for ten lines. Which origins may use the cookie is decided by
//! [`crate::origin::check_origin`]; [`CookieConfig::check_origin`] hands it a request's headers.

use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use continuum_core::cookie::SessionCookie;
use continuum_core::{SessionRecord, Timestamp, Token};

use crate::origin::{Origin, OriginRefused, check_origin};

/// How the server writes its cookie: [`SessionCookie::continuum`], `__Host-continuum` (the
/// prefix makes browsers insist on `Secure`, `Path=/` and no `Domain`), or `continuum` in
/// plain-HTTP development mode; and which origins besides the server's own may use it.
#[derive(Clone, Debug, Default)]
pub struct CookieConfig {
    /// Plain-HTTP development mode: no `Secure`, no `__Host-` prefix, and the server's own
    /// origin is `http://<Host>` instead of `https://<Host>`.
    pub dev: bool,
    /// Origins besides the server's own whose pages may use the cookie on unsafe requests and
    /// WebSockets.
    pub allowed_origins: Vec<Origin>,
}

/// Whether a request authenticated by the cookie must come from an allowed origin: every
/// method but GET, HEAD and OPTIONS, and every protocol upgrade (a WebSocket is opened by a GET
/// that a page on any origin can start, and it reads what it opens).
pub fn needs_allowed_origin(method: &Method, headers: &HeaderMap) -> bool {
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    !safe || headers.contains_key(header::UPGRADE)
}

impl CookieConfig {
    /// The settings of development mode (`dev`) or not, with no origins besides the server's own.
    pub fn new(dev: bool) -> Self {
        Self { dev, allowed_origins: Vec::new() }
    }

    /// Whether the request's `Origin` may use the cookie: the server's own origin (from `Host`,
    /// or the request target's authority over HTTP/2) or one of [`Self::allowed_origins`].
    pub fn check_origin(&self, parts: &Parts) -> Result<(), OriginRefused> {
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .or_else(|| parts.uri.authority().map(|authority| authority.as_str()));
        let scheme = if self.dev { "http" } else { "https" };
        let origin = parts.headers.get(header::ORIGIN).map(HeaderValue::as_bytes);
        check_origin(origin, host, scheme, &self.allowed_origins)
    }

    /// [`Self::check_origin`] for a request from a browser, which is one carrying a `Cookie` or
    /// an `Origin` header (a browser sends `Origin` on every POST); others (a native app, a
    /// script) pass. For the routes that sign a browser in without a session yet (guest,
    /// handoff redemption), so a page elsewhere cannot sign its visitor in as someone else.
    pub fn check_browser_origin(&self, parts: &Parts) -> Result<(), OriginRefused> {
        match parts.headers.contains_key(header::ORIGIN) || parts.headers.contains_key(header::COOKIE) {
            true => self.check_origin(parts),
            false => Ok(()),
        }
    }

    fn cookie(&self) -> SessionCookie {
        SessionCookie::continuum(self.dev)
    }

    /// The cookie's name.
    pub fn name(&self) -> &'static str {
        self.cookie().name()
    }

    /// `Set-Cookie` for a token that lives `max_age_secs` more seconds.
    pub fn set(&self, token: &str, max_age_secs: u64) -> HeaderValue {
        let value = self.cookie().set(token, Some(max_age_secs)).expect("a token is base64url, `.` and `~`");
        HeaderValue::from_str(&value).expect("cookie octets")
    }

    /// `Set-Cookie` for a newly issued session: the token, living as long as the session can.
    pub fn for_session(&self, token: &Token, record: &SessionRecord, now: Timestamp) -> HeaderValue {
        self.set(&token.to_string(), record.absolute_expires_at.saturating_since(now).as_secs())
    }

    /// `Set-Cookie` that removes the cookie.
    pub fn clear(&self) -> HeaderValue {
        HeaderValue::from_str(&self.cookie().clear()).expect("static text")
    }

    /// The cookie's value in the request, if any.
    pub fn read<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(|value| continuum_core::cookie::find_cookie(value, self.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_cookie_has_the_host_prefix_attributes() {
        let config = CookieConfig::new(false);
        let set = config.set("abc.def", 60);
        assert_eq!(set, "__Host-continuum=abc.def; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=60");
        assert!(
            CookieConfig::new(true)
                .set("t", 1)
                .to_str()
                .unwrap()
                .starts_with("continuum=t; Path=/; HttpOnly")
        );
        assert!(!CookieConfig::new(true).clear().to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn reads_its_own_cookie_among_others() {
        let config = CookieConfig::new(false);
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; continuum=dev"));
        headers.append(header::COOKIE, HeaderValue::from_static("__Host-continuum=tok.en ; b=2"));
        assert_eq!(config.read(&headers), Some("tok.en"));
        assert_eq!(CookieConfig::new(true).read(&headers), Some("dev"));
        assert_eq!(config.read(&HeaderMap::new()), None);
    }

    #[test]
    fn unsafe_methods_and_upgrades_need_an_allowed_origin() {
        let plain = HeaderMap::new();
        for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(!needs_allowed_origin(&method, &plain), "{method}");
        }
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(needs_allowed_origin(&method, &plain), "{method}");
        }
        let mut upgrade = HeaderMap::new();
        upgrade.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        assert!(needs_allowed_origin(&Method::GET, &upgrade));
    }

    #[test]
    fn the_own_origin_follows_the_host_and_the_mode() {
        let parts = |origin: &str| {
            let request = axum::http::Request::get("/v1/me")
                .header(header::HOST, "app.example")
                .header(header::ORIGIN, origin)
                .body(())
                .unwrap();
            request.into_parts().0
        };
        let secure = CookieConfig::new(false);
        assert_eq!(secure.check_origin(&parts("https://app.example")), Ok(()));
        assert!(secure.check_origin(&parts("http://app.example")).is_err());
        assert_eq!(CookieConfig::new(true).check_origin(&parts("http://app.example")), Ok(()));
        let extra =
            CookieConfig { allowed_origins: vec!["https://other.example".parse().unwrap()], ..secure };
        assert_eq!(extra.check_origin(&parts("https://other.example")), Ok(()));
    }

    #[test]
    fn a_request_without_cookie_or_origin_is_not_a_browsers() {
        let config = CookieConfig::new(false);
        let request = |headers: &[(header::HeaderName, &'static str)]| {
            let mut request = axum::http::Request::post("/v1/guest").header(header::HOST, "app.example");
            for (name, value) in headers {
                request = request.header(name, *value);
            }
            request.body(()).unwrap().into_parts().0
        };
        assert_eq!(config.check_browser_origin(&request(&[])), Ok(()));
        let cookie_only = request(&[(header::COOKIE, "__Host-continuum=a.b")]);
        assert_eq!(config.check_browser_origin(&cookie_only), Err(OriginRefused::Missing));
        let foreign = request(&[(header::ORIGIN, "https://evil.example")]);
        assert!(config.check_browser_origin(&foreign).is_err());
        let own = request(&[(header::ORIGIN, "https://app.example"), (header::COOKIE, "x=1")]);
        assert_eq!(config.check_browser_origin(&own), Ok(()));
    }
}
