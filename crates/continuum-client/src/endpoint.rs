//! [`Endpoint`]: the `http://host:port` a client talks to, parsed once.

use std::fmt;

use http::HeaderValue;
use http::uri::{Authority, Scheme, Uri};

use crate::error::ClientError;

/// A server's base URL: plain `http`, a host and a port, and no path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    host: String,
    port: u16,
    authority: Authority,
}

impl Endpoint {
    /// Parses `http://host[:port][/]`. The port defaults to 80. `https`, paths, queries and user
    /// info are refused with the reason, rather than silently ignored.
    pub fn parse(url: &str) -> Result<Self, ClientError> {
        let invalid =
            |reason: &str| ClientError::InvalidUrl { url: url.to_owned(), reason: reason.to_owned() };
        let uri: Uri = url.parse().map_err(|_| invalid("not a URL"))?;
        match uri.scheme() {
            Some(scheme) if *scheme == Scheme::HTTP => {}
            Some(_) => return Err(invalid("only http:// is supported")),
            None => return Err(invalid("it needs a scheme, as in http://127.0.0.1:7878")),
        }
        let authority = uri.authority().ok_or_else(|| invalid("it has no host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid("user info is not supported"));
        }
        if (uri.path() != "/" && !uri.path().is_empty()) || uri.query().is_some() {
            return Err(invalid("it must not have a path or a query"));
        }
        let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_owned();
        if host.is_empty() {
            return Err(invalid("it has no host"));
        }
        let port = authority.port_u16().unwrap_or(80);
        Ok(Self { host, port, authority: authority.clone() })
    }

    /// The host name or address, without brackets around an IPv6 address.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The value of the `Host` header.
    pub fn host_header(&self) -> HeaderValue {
        HeaderValue::from_str(self.authority.as_str()).expect("an authority is a valid header value")
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}", self.authority)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_port_and_defaults() {
        let endpoint = Endpoint::parse("http://127.0.0.1:7878").unwrap();
        assert_eq!((endpoint.host(), endpoint.port()), ("127.0.0.1", 7878));
        assert_eq!(endpoint.host_header(), "127.0.0.1:7878");
        assert_eq!(endpoint.to_string(), "http://127.0.0.1:7878");
        let endpoint = Endpoint::parse("http://localhost/").unwrap();
        assert_eq!((endpoint.host(), endpoint.port()), ("localhost", 80));
        let endpoint = Endpoint::parse("http://[::1]:9000").unwrap();
        assert_eq!((endpoint.host(), endpoint.port()), ("::1", 9000));
        assert_eq!(endpoint.host_header(), "[::1]:9000");
    }

    #[test]
    fn refuses_what_it_cannot_honour() {
        for (url, reason) in [
            ("https://127.0.0.1", "only http://"),
            ("127.0.0.1:7878", "scheme"),
            ("http://127.0.0.1:7878/api", "path"),
            ("http://127.0.0.1:7878/?x=1", "query"),
            ("http://user:pw@127.0.0.1", "user info"),
            ("not a url", "not a URL"),
        ] {
            let error = Endpoint::parse(url).unwrap_err().to_string();
            assert!(error.contains(reason), "{url}: {error}");
        }
    }
}
