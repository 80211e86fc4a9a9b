//! Continuity document names: a [`Scope`] (whose document it is), a [`DocName`], the [`DocKey`]
//! that joins them, and the access rule for a client session.

use std::fmt;

use crate::id::SessionId;
use crate::principal::Principal;
use crate::record::SessionRecord;

/// The longest document name, in bytes.
pub const MAX_DOC_NAME_BYTES: usize = 128;

/// Why a scope or a document name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocNameError {
    /// The scope is neither `user:<principal>` nor `session:<sid>`.
    #[error("a scope is `user:<principal>` or `session:<sid>`")]
    Scope,
    /// The principal of a `user:` scope is not valid.
    #[error("invalid principal in scope: {0}")]
    Principal(#[from] crate::principal::PrincipalError),
    /// The session id of a `session:` scope is not valid.
    #[error("invalid session id in scope: {0}")]
    Session(#[from] crate::id::TokenError),
    /// The name is empty or too long.
    #[error("a document name is 1 to {MAX_DOC_NAME_BYTES} bytes long, got {0}")]
    NameLength(usize),
    /// The name has a character outside `A-Z a-z 0-9 . _ -` or starts with a dot.
    #[error("a document name uses only A-Z a-z 0-9 . _ - and does not start with a dot")]
    NameCharacters,
}

/// Whose document it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Follows the user to every device: `user:<principal>`.
    User(Principal),
    /// This device's session only: `session:<sid>`.
    Session(SessionId),
}

impl Scope {
    /// Parses `user:<principal>` or `session:<sid>`.
    pub fn parse(text: &str) -> Result<Self, DocNameError> {
        if let Some(principal) = text.strip_prefix("user:") {
            return Ok(Scope::User(Principal::lookup(principal)?));
        }
        if let Some(sid) = text.strip_prefix("session:") {
            return Ok(Scope::Session(SessionId::parse(sid)?));
        }
        Err(DocNameError::Scope)
    }

    /// Whether a client holding `session` may open documents of this scope: its own principal's
    /// and its own session's, nothing else.
    pub fn is_open_to(&self, session: &SessionRecord) -> bool {
        match self {
            Scope::User(principal) => *principal == session.principal,
            Scope::Session(sid) => *sid == session.sid,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::User(principal) => write!(f, "user:{principal}"),
            Scope::Session(sid) => write!(f, "session:{sid}"),
        }
    }
}

/// A document's name inside its scope: 1 to 128 bytes of `A-Z a-z 0-9 . _ -`, not starting with
/// a dot (so names are safe in paths, logs and keys).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocName(String);

impl DocName {
    /// Validates a name.
    pub fn parse(text: &str) -> Result<Self, DocNameError> {
        if text.is_empty() || text.len() > MAX_DOC_NAME_BYTES {
            return Err(DocNameError::NameLength(text.len()));
        }
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-');
        if text.starts_with('.') || !text.bytes().all(allowed) {
            return Err(DocNameError::NameCharacters);
        }
        Ok(Self(text.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DocName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One continuity document: `(scope, name)`. Displayed as `<scope>/<name>` for people; stores key
/// it by [`DocKey::storage_key`], since a principal may itself contain `/`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocKey {
    /// Whose it is.
    pub scope: Scope,
    /// Its name.
    pub name: DocName,
}

impl DocKey {
    /// Parses a scope and a name.
    pub fn parse(scope: &str, name: &str) -> Result<Self, DocNameError> {
        Ok(Self { scope: Scope::parse(scope)?, name: DocName::parse(name)? })
    }

    /// A byte key that sorts documents by scope then name, unambiguous whatever the principal
    /// contains: the scope's text, a 0 byte (never in a principal: control characters are
    /// refused), then the name.
    pub fn storage_key(&self) -> Vec<u8> {
        let mut key = self.scope.to_string().into_bytes();
        key.push(0);
        key.extend_from_slice(self.name.as_str().as_bytes());
        key
    }

    /// The document a [`DocKey::storage_key`] names: the text before the first 0 byte is the
    /// scope, the rest the name, each checked as [`DocKey::parse`] checks them.
    pub fn from_storage_key(key: &[u8]) -> Result<Self, DocNameError> {
        let split = key.iter().position(|byte| *byte == 0).unwrap_or(key.len());
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        let name = key.get(split + 1..).unwrap_or_default();
        Self::parse(&text(&key[..split]), &text(name))
    }

    /// The prefix of [`DocKey::storage_key`] shared by every document of `scope`.
    pub fn scope_prefix(scope: &Scope) -> Vec<u8> {
        let mut key = scope.to_string().into_bytes();
        key.push(0);
        key
    }
}

impl fmt::Display for DocKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.scope, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{NewSession, SessionPolicy};
    use crate::time::Timestamp;

    #[test]
    fn scopes_parse_strictly() {
        assert_eq!(Scope::parse("user:alice").unwrap(), Scope::User(Principal::parse("alice").unwrap()));
        let sid = SessionId::generate();
        assert_eq!(Scope::parse(&format!("session:{sid}")).unwrap(), Scope::Session(sid));
        assert_eq!(Scope::parse("group:x"), Err(DocNameError::Scope));
        assert!(matches!(Scope::parse("user:"), Err(DocNameError::Principal(_))));
        assert!(matches!(Scope::parse("session:abc"), Err(DocNameError::Session(_))));
    }

    #[test]
    fn names_are_path_and_log_safe() {
        assert!(DocName::parse("checkout-form_v2.draft").is_ok());
        assert_eq!(DocName::parse(""), Err(DocNameError::NameLength(0)));
        assert_eq!(DocName::parse(&"a".repeat(129)), Err(DocNameError::NameLength(129)));
        for bad in [".hidden", "a/b", "a b", "é", "a\0b", "..", "a%2F"] {
            assert_eq!(DocName::parse(bad), Err(DocNameError::NameCharacters), "{bad}");
        }
    }

    #[test]
    fn storage_keys_read_back_as_their_documents() {
        for (scope, name) in [("user:a/b", "draft"), ("session:AAAAAAAAAAAAAAAAAAAAAA", "x.y-z")] {
            let key = DocKey::parse(scope, name).unwrap();
            assert_eq!(DocKey::from_storage_key(&key.storage_key()).unwrap(), key);
        }
        assert!(DocKey::from_storage_key(b"user:a").is_err(), "no name");
        assert!(DocKey::from_storage_key(b"nobody:a\0draft").is_err(), "not a scope");
    }

    #[test]
    fn storage_keys_do_not_collide_across_scopes() {
        let a = DocKey::parse("user:a/b", "c").unwrap();
        let b = DocKey::parse("user:a", "b-c").unwrap();
        assert_ne!(a.storage_key(), b.storage_key());
        assert!(a.storage_key().starts_with(&DocKey::scope_prefix(&a.scope)));
        assert!(!b.storage_key().starts_with(&DocKey::scope_prefix(&a.scope)));
    }

    #[test]
    fn a_session_opens_its_own_principal_and_session_only() {
        let policy = SessionPolicy::default();
        let ask =
            |p: &str| NewSession { principal: Some(Principal::parse(p).unwrap()), ..NewSession::default() };
        let (alice, _) = policy.new_session(ask("alice"), Timestamp::EPOCH).unwrap();
        let (other_alice, _) = policy.new_session(ask("alice"), Timestamp::EPOCH).unwrap();
        assert!(Scope::User(alice.principal.clone()).is_open_to(&alice));
        assert!(Scope::User(alice.principal.clone()).is_open_to(&other_alice));
        assert!(!Scope::User(Principal::parse("bob").unwrap()).is_open_to(&alice));
        assert!(Scope::Session(alice.sid).is_open_to(&alice));
        assert!(!Scope::Session(alice.sid).is_open_to(&other_alice));
    }
}
