//! The session cookie: its name (from [`SessionCookie::continuum`], shared with the gateway and
//! the edge), the `Set-Cookie` values that set and clear it, and reading it.
//!
//! Reading a `Cookie` header is a split on `;` and `=` ([`continuum_core::cookie::find_cookie`]);
//! a crate would add a dependency for ten lines.

use axum::http::{HeaderMap, HeaderValue, header};
use continuum_core::cookie::SessionCookie;
use continuum_core::{SessionRecord, Timestamp, Token};

/// How the server writes its cookie: [`SessionCookie::continuum`], `__Host-continuum` (the
/// prefix makes browsers insist on `Secure`, `Path=/` and no `Domain`), or `continuum` in
/// plain-HTTP development mode.
#[derive(Clone, Copy, Debug)]
pub struct CookieConfig {
    /// Plain-HTTP development mode: no `Secure`, no `__Host-` prefix.
    pub dev: bool,
}

impl CookieConfig {
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
        let config = CookieConfig { dev: false };
        let set = config.set("abc.def", 60);
        assert_eq!(set, "__Host-continuum=abc.def; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=60");
        assert!(
            CookieConfig { dev: true }
                .set("t", 1)
                .to_str()
                .unwrap()
                .starts_with("continuum=t; Path=/; HttpOnly")
        );
        assert!(!CookieConfig { dev: true }.clear().to_str().unwrap().contains("Secure"));
    }

    #[test]
    fn reads_its_own_cookie_among_others() {
        let config = CookieConfig { dev: false };
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; continuum=dev"));
        headers.append(header::COOKIE, HeaderValue::from_static("__Host-continuum=tok.en ; b=2"));
        assert_eq!(config.read(&headers), Some("tok.en"));
        assert_eq!(CookieConfig { dev: true }.read(&headers), Some("dev"));
        assert_eq!(config.read(&HeaderMap::new()), None);
    }
}
