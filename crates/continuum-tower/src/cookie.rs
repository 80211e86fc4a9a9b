//! The app's session cookie: its name and attributes (OWASP defaults, or plain-HTTP development),
//! the `Set-Cookie` values that set and clear it, and reading it from a request. Pure.

use continuum_core::cookie::SessionCookie;
use http::{HeaderMap, HeaderValue, header};

/// The cookie's name in production: the `__Host-` prefix makes browsers insist on `Secure`,
/// `Path=/` and no `Domain`, so no subdomain can set or shadow it.
pub const SECURE_NAME: &str = "__Host-session";
/// The cookie's name in plain-HTTP development mode (`__Host-` needs `Secure`).
pub const DEV_NAME: &str = "session";

/// How the layer writes its cookie.
///
/// Production (the default): `__Host-session=<token>; Path=/; Secure; HttpOnly; SameSite=Lax`.
/// Development ([`CookieConfig::dev`]): `session=<token>; Path=/; HttpOnly; SameSite=Lax`, for
/// `http://localhost`. Neither has `Max-Age` or `Expires`: the cookie is a browser-session
/// cookie (OWASP's advice for session ids), and the session's own deadlines are enforced where
/// the token is validated, never by the browser.
#[derive(Clone, Debug, Default)]
pub struct CookieConfig {
    /// Plain-HTTP development mode: no `Secure`, no `__Host-` prefix.
    pub dev: bool,
}

impl CookieConfig {
    /// The production settings.
    pub fn secure() -> Self {
        Self { dev: false }
    }

    /// The plain-HTTP development settings.
    pub fn dev() -> Self {
        Self { dev: true }
    }

    fn cookie(&self) -> SessionCookie {
        SessionCookie { secure_name: SECURE_NAME, dev_name: DEV_NAME, dev: self.dev }
    }

    /// The cookie's name.
    pub fn name(&self) -> &'static str {
        self.cookie().name()
    }

    /// `Set-Cookie` carrying `token`; `None` if the token holds a character a cookie cannot
    /// (Continuum's tokens never do).
    pub fn set(&self, token: &str) -> Option<HeaderValue> {
        HeaderValue::from_str(&self.cookie().set(token, None)?).ok()
    }

    /// `Set-Cookie` that removes the cookie.
    pub fn clear(&self) -> HeaderValue {
        HeaderValue::from_str(&self.cookie().clear()).expect("static text")
    }

    /// The cookie's value in the request, if any and not empty.
    pub fn read<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(|value| continuum_core::cookie::find_cookie(value, self.name()))
            .filter(|value| !value.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_cookies_follow_owasp() {
        let cookie = CookieConfig::default();
        let set = cookie.set("abc.def").unwrap();
        assert_eq!(set, "__Host-session=abc.def; Path=/; Secure; HttpOnly; SameSite=Lax");
        assert_eq!(cookie.clear(), "__Host-session=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0");
    }

    #[test]
    fn dev_cookies_drop_secure_and_the_prefix() {
        let cookie = CookieConfig::dev();
        assert_eq!(cookie.set("cs~x").unwrap(), "session=cs~x; Path=/; HttpOnly; SameSite=Lax");
        assert!(!cookie.clear().to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn refuses_values_a_cookie_cannot_hold() {
        for bad in ["a;b", "a b", "a,b", "a\"b", "a\\b", "é"] {
            assert_eq!(CookieConfig::dev().set(bad), None, "{bad}");
        }
    }

    #[test]
    fn reads_only_its_own_non_empty_cookie() {
        let cookie = CookieConfig::dev();
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("other=1; session=tok.en"));
        assert_eq!(cookie.read(&headers), Some("tok.en"));
        assert_eq!(CookieConfig::secure().read(&headers), None);
        let mut empty = HeaderMap::new();
        empty.append(header::COOKIE, HeaderValue::from_static("session="));
        assert_eq!(cookie.read(&empty), None);
    }
}
