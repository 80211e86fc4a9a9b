//! Session cookies as text: reading one out of a `Cookie` header value (a split on `;` and `=`,
//! ten lines, so no crate), and the `Set-Cookie` values that set and clear one with the OWASP
//! attributes. Pure, so the server, the tower layer and the fuzz target share it.

/// A session cookie's name and whether it is for plain-HTTP development. In production the
/// name carries the `__Host-` prefix, so browsers insist on `Secure`, `Path=/` and no `Domain`,
/// and no subdomain can set or shadow it; in development both the prefix and `Secure` go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionCookie {
    /// The name in production, with its `__Host-` prefix.
    pub secure_name: &'static str,
    /// The name in plain-HTTP development.
    pub dev_name: &'static str,
    /// Plain-HTTP development mode.
    pub dev: bool,
}

impl SessionCookie {
    /// The cookie of Continuum's own client plane — `__Host-continuum`, or `continuum` in
    /// plain-HTTP development — which the server sets and the gateway and the edge read.
    pub const fn continuum(dev: bool) -> Self {
        Self { secure_name: "__Host-continuum", dev_name: "continuum", dev }
    }

    /// The cookie's name.
    pub fn name(&self) -> &'static str {
        if self.dev { self.dev_name } else { self.secure_name }
    }

    /// The attributes: `Path=/; Secure; HttpOnly; SameSite=Lax`, without `Secure` in development.
    pub fn attributes(&self) -> &'static str {
        if self.dev { "Path=/; HttpOnly; SameSite=Lax" } else { "Path=/; Secure; HttpOnly; SameSite=Lax" }
    }

    /// The `Set-Cookie` value carrying `token`, with `Max-Age` when given (none makes a
    /// browser-session cookie); `None` if the token holds a character a cookie cannot
    /// (Continuum's tokens never do).
    pub fn set(&self, token: &str, max_age_secs: Option<u64>) -> Option<String> {
        if !token.bytes().all(is_cookie_octet) {
            return None;
        }
        let mut value = format!("{}={token}; {}", self.name(), self.attributes());
        if let Some(max_age) = max_age_secs {
            value.push_str(&format!("; Max-Age={max_age}"));
        }
        Some(value)
    }

    /// The `Set-Cookie` value that removes the cookie.
    pub fn clear(&self) -> String {
        format!("{}=; {}; Max-Age=0", self.name(), self.attributes())
    }
}

/// RFC 6265 `cookie-octet`: visible ASCII but `"`, `,`, `;` and `\`.
fn is_cookie_octet(byte: u8) -> bool {
    matches!(byte, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

/// The value of the first cookie named `name` in a `Cookie` header value (`a=1; b=2`), trimmed.
/// Pairs without `=` are skipped; names are compared exactly.
pub fn find_cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(candidate, _)| *candidate == name)
        .map(|(_, value)| value.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_named_cookie_only() {
        assert_eq!(find_cookie("a=1; __Host-continuum=tok.en ; b=2", "__Host-continuum"), Some("tok.en"));
        assert_eq!(find_cookie("continuum=x", "__Host-continuum"), None);
        assert_eq!(find_cookie("junk; =; continuum=cs~AA==", "continuum"), Some("cs~AA=="));
        assert_eq!(find_cookie("", "continuum"), None);
    }

    #[test]
    fn continuums_cookie_names() {
        assert_eq!(SessionCookie::continuum(false).name(), "__Host-continuum");
        assert_eq!(SessionCookie::continuum(true).name(), "continuum");
    }

    #[test]
    fn set_and_clear_carry_the_owasp_attributes() {
        let secure = SessionCookie { secure_name: "__Host-s", dev_name: "s", dev: false };
        assert_eq!(secure.set("a.b", None).unwrap(), "__Host-s=a.b; Path=/; Secure; HttpOnly; SameSite=Lax");
        assert_eq!(
            secure.set("a.b", Some(60)).unwrap(),
            "__Host-s=a.b; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=60"
        );
        assert_eq!(secure.clear(), "__Host-s=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0");
        let dev = SessionCookie { dev: true, ..secure };
        assert_eq!(dev.set("t", None).unwrap(), "s=t; Path=/; HttpOnly; SameSite=Lax");
        for bad in ["a;b", "a b", "a\"b", "é"] {
            assert_eq!(secure.set(bad, None), None, "{bad:?}");
        }
    }
}
