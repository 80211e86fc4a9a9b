//! Which origins may use the session cookie: [`Origin`], a parsed `scheme://host[:port]`, and
//! [`check_origin`], the decision for one request, without I/O.
//!
//! A browser attaches the cookie to requests that other pages start (a form posted from
//! another site, a WebSocket opened by a page on another port), and it names the page's origin
//! in `Origin` on every WebSocket and on every request other than GET and HEAD. So a
//! cookie-authenticated unsafe request or WebSocket is accepted only from this server's own
//! origin or an allowed one. The own origin is `https://<Host>` (`http://<Host>` in
//! development mode), the `Host` the browser sent: a page on another origin cannot choose it,
//! and a page that rebinds a name of its own to this server's address gets no cookie for it.

use std::fmt;
use std::str::FromStr;

/// An origin, `scheme://host[:port]`, as browsers write it: scheme and host in lower case, no
/// default port (`:443` for https, `:80` for http), no path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin(String);

/// Why a text is not an origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    /// Not `http://` or `https://`.
    #[error("`{0}` is not an origin: it must start with http:// or https://")]
    Scheme(String),
    /// Something other than a host and a port after the scheme.
    #[error("`{0}` is not an origin: expected scheme://host[:port] with no path, query or user")]
    Shape(String),
}

impl Origin {
    /// The origin of a server reached as `host` (a `Host` header: `name[:port]`) over `scheme`.
    pub fn of_host(scheme: &str, host: &str) -> Result<Self, OriginError> {
        format!("{scheme}://{host}").parse()
    }

    /// The origin as text, e.g. `https://example.com:8443`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Origin {
    type Err = OriginError;

    /// Parses `scheme://host[:port]`; a single trailing `/` is forgiven (configuration often
    /// has one), anything else after the authority is refused.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        let (scheme, rest) = lower.split_once("://").ok_or_else(|| OriginError::Scheme(text.to_owned()))?;
        let default_port = match scheme {
            "https" => ":443",
            "http" => ":80",
            _ => return Err(OriginError::Scheme(text.to_owned())),
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        let shape = || OriginError::Shape(text.to_owned());
        let valid = |c: char| c.is_ascii_alphanumeric() || "-.:[]".contains(c);
        if authority.is_empty() || !authority.chars().all(valid) || authority.starts_with(':') {
            return Err(shape());
        }
        let bad_port = split_port(authority).is_some_and(|(host, port)| {
            host.is_empty() || port.is_empty() || !port.chars().all(|c| c.is_ascii_digit())
        });
        if bad_port {
            return Err(shape());
        }
        let authority = authority.strip_suffix(default_port).unwrap_or(authority);
        Ok(Origin(format!("{scheme}://{authority}")))
    }
}

/// `host:port` to its two halves, minding IPv6 literals (`[::1]:8080`); `None` without a port.
fn split_port(authority: &str) -> Option<(&str, &str)> {
    let after_host = match authority.starts_with('[') {
        true => authority.find(']')? + 1,
        false => 0,
    };
    let colon = authority[after_host..].rfind(':')? + after_host;
    Some((&authority[..colon], &authority[colon + 1..]))
}

/// Why a request's origin may not use the session cookie; its `Display` is the problem's detail
/// and names the origin refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginRefused {
    /// No `Origin` header, which a browser always sends on these requests.
    #[error(
        "a request that uses the session cookie to change something or open a socket must carry \
         an `Origin` header naming an allowed origin; this one has none"
    )]
    Missing,
    /// `Origin: null`: an opaque origin (a sandboxed frame, a file, a privacy-hiding redirect).
    #[error("origin `null` (an opaque origin) may not use the session cookie")]
    Opaque,
    /// An origin other than the server's own and the allowed ones.
    #[error(
        "origin `{origin}` may not use the session cookie: only this server's own origin ({own}) \
         and the configured `allowed_origins` may"
    )]
    NotAllowed {
        /// The origin the request named, as sent.
        origin: String,
        /// The server's own origin as this request reached it, or `unknown` without a `Host`.
        own: String,
    },
}

/// Decides whether a request from `origin` (its `Origin` header, if any) may use the session
/// cookie on a server reached as `host` (its `Host` header) over `scheme` (`https`, or `http`
/// in development mode): yes when it is the server's own origin or one of `allowed`.
pub fn check_origin(
    origin: Option<&[u8]>,
    host: Option<&str>,
    scheme: &str,
    allowed: &[Origin],
) -> Result<(), OriginRefused> {
    let sent = origin.ok_or(OriginRefused::Missing)?;
    let sent = String::from_utf8_lossy(sent);
    if sent.trim().eq_ignore_ascii_case("null") {
        return Err(OriginRefused::Opaque);
    }
    let own = host.and_then(|host| Origin::of_host(scheme, host).ok());
    let accepted =
        sent.parse::<Origin>().is_ok_and(|sent| own.as_ref() == Some(&sent) || allowed.contains(&sent));
    match accepted {
        true => Ok(()),
        false => Err(OriginRefused::NotAllowed {
            origin: sent.into_owned(),
            own: own.map_or_else(|| "unknown".to_owned(), |own| own.0),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(text: &str) -> Origin {
        text.parse().unwrap()
    }

    #[test]
    fn origins_are_written_as_browsers_write_them() {
        assert_eq!(origin("HTTPS://Example.COM").as_str(), "https://example.com");
        assert_eq!(origin("https://example.com:443/").as_str(), "https://example.com");
        assert_eq!(origin("http://example.com:80").as_str(), "http://example.com");
        assert_eq!(origin("http://example.com:443").as_str(), "http://example.com:443");
        assert_eq!(origin("http://127.0.0.1:7878").as_str(), "http://127.0.0.1:7878");
        assert_eq!(origin("http://[::1]:7878").as_str(), "http://[::1]:7878");
        assert_eq!(origin("http://[::1]").as_str(), "http://[::1]");
    }

    #[test]
    fn what_is_not_an_origin_is_refused() {
        for text in ["example.com", "ftp://example.com", "null", "*"] {
            assert!(matches!(text.parse::<Origin>(), Err(OriginError::Scheme(_))), "{text}");
        }
        for text in [
            "https://",
            "https://example.com/path",
            "https://user@example.com",
            "https://example.com?x",
            "https://example.com:",
            "https://example.com:8x",
            "https://:80",
            "https://exa mple.com",
        ] {
            assert!(matches!(text.parse::<Origin>(), Err(OriginError::Shape(_))), "{text}");
        }
    }

    fn check(
        sent: Option<&str>,
        host: Option<&str>,
        scheme: &str,
        allowed: &[&str],
    ) -> Result<(), OriginRefused> {
        let allowed: Vec<Origin> = allowed.iter().map(|text| origin(text)).collect();
        check_origin(sent.map(str::as_bytes), host, scheme, &allowed)
    }

    #[test]
    fn the_servers_own_origin_is_allowed() {
        assert_eq!(check(Some("https://app.example"), Some("app.example"), "https", &[]), Ok(()));
        assert_eq!(check(Some("https://app.example"), Some("App.Example:443"), "https", &[]), Ok(()));
        assert_eq!(check(Some("http://127.0.0.1:7878"), Some("127.0.0.1:7878"), "http", &[]), Ok(()));
    }

    #[test]
    fn the_scheme_is_part_of_the_origin() {
        // Development mode serves plain HTTP: an https page of the same host is another origin.
        let refused = check(Some("https://127.0.0.1:7878"), Some("127.0.0.1:7878"), "http", &[]);
        assert!(matches!(refused, Err(OriginRefused::NotAllowed { .. })), "{refused:?}");
        let refused = check(Some("http://app.example"), Some("app.example"), "https", &[]);
        assert!(matches!(refused, Err(OriginRefused::NotAllowed { .. })), "{refused:?}");
    }

    #[test]
    fn another_port_or_host_is_another_origin() {
        for sent in
            ["http://127.0.0.1:7879", "http://localhost:7878", "https://evil.example", "http://127.0.0.1"]
        {
            let refused = check(Some(sent), Some("127.0.0.1:7878"), "http", &[]).unwrap_err();
            assert_eq!(
                refused,
                OriginRefused::NotAllowed {
                    origin: sent.to_owned(),
                    own: "http://127.0.0.1:7878".to_owned()
                }
            );
            assert!(refused.to_string().contains(sent), "{refused}");
        }
    }

    #[test]
    fn configured_origins_are_allowed_too() {
        let allowed = ["https://app.example", "http://localhost:3000"];
        assert_eq!(check(Some("https://app.example"), Some("api.example"), "https", &allowed), Ok(()));
        assert_eq!(check(Some("HTTP://LOCALHOST:3000"), Some("api.example"), "https", &allowed), Ok(()));
        assert!(check(Some("https://app.example:8443"), Some("api.example"), "https", &allowed).is_err());
        // Without a Host only the configured origins can match.
        assert_eq!(check(Some("https://app.example"), None, "https", &allowed), Ok(()));
        let refused = check(Some("https://api.example"), None, "https", &allowed).unwrap_err();
        assert!(refused.to_string().contains("(unknown)"), "{refused}");
    }

    #[test]
    fn missing_opaque_and_malformed_origins_are_refused() {
        assert_eq!(check(None, Some("app.example"), "https", &[]), Err(OriginRefused::Missing));
        assert_eq!(check(Some("null"), Some("app.example"), "https", &[]), Err(OriginRefused::Opaque));
        let refused = check(Some("app.example"), Some("app.example"), "https", &[]).unwrap_err();
        assert!(refused.to_string().contains("`app.example`"), "{refused}");
        let refused = check(Some("https://app.example/x"), Some("app.example"), "https", &[]);
        assert!(refused.is_err());
    }
}
