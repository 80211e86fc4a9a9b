//! Which document a bench socket opens ([`DocTarget`]) and as whom ([`SocketAuth`]).

use std::fmt;

use http::HeaderValue;

use continuum_client::requests::encode_segment;

/// One continuity document: a scope (`user:<principal>` or `session:<sid>`) and a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocTarget {
    /// `user:<principal>` or `session:<sid>`.
    pub scope: String,
    /// `[A-Za-z0-9._-]{1,128}`.
    pub name: String,
}

impl DocTarget {
    /// The document `name` of `principal`, shared by all of its sessions.
    pub fn user(principal: &str, name: &str) -> Self {
        Self { scope: format!("user:{principal}"), name: name.to_owned() }
    }

    /// The document `name` of session `sid` only.
    pub fn session(sid: &str, name: &str) -> Self {
        Self { scope: format!("session:{sid}"), name: name.to_owned() }
    }

    /// The path and query of its sync socket; `acks` asks for durability acks.
    pub fn path(&self, acks: bool) -> String {
        let query = if acks { "?acks=1" } else { "" };
        format!("/v1/sync/{}/{}{query}", encode_segment(&self.scope), encode_segment(&self.name))
    }
}

impl fmt::Display for DocTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.scope, self.name)
    }
}

/// The `Authorization` header a socket presents: a client's session token. (A backend's API key
/// also opens any document, but the server counts all backend sockets as one session, so the
/// bench opens its sockets as sessions.)
#[derive(Clone)]
pub struct SocketAuth(HeaderValue);

impl SocketAuth {
    /// `Authorization: Session <token>`, or `None` when the token cannot be a header value.
    pub fn session(token: &str) -> Option<Self> {
        let mut value = HeaderValue::from_str(&format!("Session {token}")).ok()?;
        value.set_sensitive(true);
        Some(Self(value))
    }

    /// The header value.
    pub fn header(&self) -> &HeaderValue {
        &self.0
    }
}

impl fmt::Debug for SocketAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SocketAuth(..)")
    }
}

/// A short id that tells this bench run's principals and documents from earlier runs' on the same
/// server: the low bits of the wall clock in nanoseconds, in hexadecimal.
pub fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    format!("{:010x}", nanos & 0xff_ffff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_encode_the_scope_and_ask_for_acks_when_told() {
        let target = DocTarget::user("bench-1a", "bench-fanout");
        assert_eq!(target.path(false), "/v1/sync/user%3Abench-1a/bench-fanout");
        assert_eq!(target.path(true), "/v1/sync/user%3Abench-1a/bench-fanout?acks=1");
        assert_eq!(target.to_string(), "user:bench-1a/bench-fanout");
        let target = DocTarget::session("abc_-", "memory");
        assert_eq!(target.path(true), "/v1/sync/session%3Aabc_-/memory?acks=1");
    }

    #[test]
    fn the_token_is_a_sensitive_session_header() {
        let auth = SocketAuth::session("sid.secret").unwrap();
        assert_eq!(auth.header(), "Session sid.secret");
        assert!(auth.header().is_sensitive());
        assert_eq!(format!("{auth:?}"), "SocketAuth(..)");
        assert!(SocketAuth::session("bad\ntoken").is_none());
    }

    #[test]
    fn run_ids_are_ten_hex_digits() {
        let id = run_id();
        assert_eq!(id.len(), 10);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    }
}
