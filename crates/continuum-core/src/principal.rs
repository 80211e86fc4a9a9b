//! [`Principal`]: who a session belongs to.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// The prefix of principals made up for anonymous sessions; clients cannot claim it.
pub const ANONYMOUS_PREFIX: &str = "anon:";

/// The longest principal accepted, in bytes.
pub const MAX_PRINCIPAL_BYTES: usize = 256;

/// Why a string is not a principal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrincipalError {
    /// Empty.
    #[error("principal must not be empty")]
    Empty,
    /// Longer than [`MAX_PRINCIPAL_BYTES`].
    #[error("principal is {actual} bytes long; at most {MAX_PRINCIPAL_BYTES} are allowed")]
    TooLong {
        /// Its length in bytes.
        actual: usize,
    },
    /// Contains a control character or is only whitespace.
    #[error("principal must be printable text and not only whitespace")]
    NotPrintable,
    /// Starts with the reserved anonymous prefix.
    #[error("principals starting with `{ANONYMOUS_PREFIX}` are reserved for anonymous sessions")]
    Reserved,
}

/// A user id as the application knows it (or `anon:<random>` for an anonymous session).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Principal(String);

impl Principal {
    /// Validates a principal named by an application. The anonymous prefix is refused.
    pub fn parse(text: &str) -> Result<Self, PrincipalError> {
        let principal = Self::parse_any(text)?;
        if principal.is_anonymous() {
            return Err(PrincipalError::Reserved);
        }
        Ok(principal)
    }

    /// Validates any principal, anonymous ones included (for lookups by principal).
    pub fn parse_any(text: &str) -> Result<Self, PrincipalError> {
        if text.is_empty() {
            return Err(PrincipalError::Empty);
        }
        if text.len() > MAX_PRINCIPAL_BYTES {
            return Err(PrincipalError::TooLong { actual: text.len() });
        }
        if text.chars().any(char::is_control) || text.trim().is_empty() {
            return Err(PrincipalError::NotPrintable);
        }
        Ok(Self(text.to_owned()))
    }

    /// A new anonymous principal, `anon:` and 16 random bytes.
    pub fn anonymous() -> Self {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
        Self(format!("{ANONYMOUS_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Whether this principal was made up for an anonymous session.
    pub fn is_anonymous(&self) -> bool {
        self.0.starts_with(ANONYMOUS_PREFIX)
    }

    /// The principal as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_principals() {
        assert_eq!(Principal::parse("alice").unwrap().as_str(), "alice");
        assert_eq!(Principal::parse(""), Err(PrincipalError::Empty));
        assert_eq!(Principal::parse("   "), Err(PrincipalError::NotPrintable));
        assert_eq!(Principal::parse("a\u{0}b"), Err(PrincipalError::NotPrintable));
        assert_eq!(Principal::parse(&"x".repeat(257)), Err(PrincipalError::TooLong { actual: 257 }));
        assert!(Principal::parse(&"é".repeat(128)).is_ok());
        assert_eq!(Principal::parse("anon:me"), Err(PrincipalError::Reserved));
        assert!(Principal::parse_any("anon:me").is_ok());
    }

    #[test]
    fn anonymous_principals_are_distinct_and_marked() {
        let (a, b) = (Principal::anonymous(), Principal::anonymous());
        assert_ne!(a, b);
        assert!(a.is_anonymous());
        assert!(Principal::parse_any(a.as_str()).is_ok());
    }
}
