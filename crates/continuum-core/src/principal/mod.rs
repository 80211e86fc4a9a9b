//! [`Principal`]: who a session belongs to.
//!
//! A principal entering the service ([`Principal::parse`]) is put in Unicode NFC and refused if
//! it has control characters, bidirectional controls, invisible characters, whitespace other
//! than an inner U+0020, or whitespace at either end: those let two principals look alike, or
//! one pass for another. Case is kept: principals are the application's ids, and folding case
//! could merge accounts the application keeps apart. Records written before these rules are read
//! back unchanged ([`Principal::parse_any`], and serde), and looked up by their exact text
//! ([`Principal::lookup`]), so old stores keep working.

mod chars;

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization as _;

pub use chars::Forbidden;

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
    /// Contains a character that hides or disguises text.
    #[error("principal contains U+{:04X} ({kind}) at character {index}", u32::from(*.character))]
    Forbidden {
        /// What kind of character it is.
        kind: Forbidden,
        /// The character.
        character: char,
        /// Its position, counted in characters from 0.
        index: usize,
    },
    /// Starts or ends with whitespace.
    #[error("principal must not start or end with whitespace")]
    SurroundingWhitespace,
    /// Starts with the reserved anonymous prefix.
    #[error("principals starting with `{ANONYMOUS_PREFIX}` are reserved for anonymous sessions")]
    Reserved,
}

/// A user id as the application knows it (or `anon:<random>` for an anonymous session).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Principal(String);

impl Principal {
    /// Validates a principal named by an application, in NFC. The anonymous prefix is refused.
    pub fn parse(text: &str) -> Result<Self, PrincipalError> {
        let principal = Self::parse_new(text)?;
        if principal.is_anonymous() {
            return Err(PrincipalError::Reserved);
        }
        Ok(principal)
    }

    /// A principal to look up (anonymous ones included): in NFC if it meets the rules of
    /// [`Principal::parse`], otherwise its exact text if it meets the rules stores were written
    /// with before, so records made then can still be listed and revoked.
    pub fn lookup(text: &str) -> Result<Self, PrincipalError> {
        Self::parse_new(text).or_else(|_| Self::parse_any(text))
    }

    /// Validates a principal read back from a store, anonymous ones included, under the rules it
    /// was written with: not empty, at most [`MAX_PRINCIPAL_BYTES`], no control characters, not
    /// only whitespace. Its text is kept as it is.
    pub fn parse_any(text: &str) -> Result<Self, PrincipalError> {
        check_length(text)?;
        if text.chars().any(char::is_control) || text.trim().is_empty() {
            return Err(PrincipalError::NotPrintable);
        }
        Ok(Self(text.to_owned()))
    }

    /// The rules of [`Principal::parse`] without the anonymous prefix check.
    fn parse_new(text: &str) -> Result<Self, PrincipalError> {
        let text: String = text.nfc().collect();
        Self::parse_any(&text)?;
        let found =
            text.chars().enumerate().find_map(|(index, c)| chars::forbidden(c).map(|kind| (index, kind, c)));
        if let Some((index, kind, character)) = found {
            return Err(PrincipalError::Forbidden { kind, character, index });
        }
        if text.trim() != text {
            return Err(PrincipalError::SurroundingWhitespace);
        }
        Ok(Self(text))
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

fn check_length(text: &str) -> Result<(), PrincipalError> {
    if text.is_empty() {
        return Err(PrincipalError::Empty);
    }
    if text.len() > MAX_PRINCIPAL_BYTES {
        return Err(PrincipalError::TooLong { actual: text.len() });
    }
    Ok(())
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
    fn principals_are_put_in_nfc() {
        let decomposed = "zoe\u{0308}";
        assert_eq!(Principal::parse(decomposed).unwrap().as_str(), "zo\u{00EB}");
        assert_eq!(Principal::parse(decomposed), Principal::parse("zo\u{00EB}"));
        assert_eq!(Principal::lookup(decomposed).unwrap().as_str(), "zo\u{00EB}");
    }

    #[test]
    fn case_is_kept() {
        assert_eq!(Principal::parse("BOB").unwrap().as_str(), "BOB");
        assert_ne!(Principal::parse("BOB"), Principal::parse("bob"));
    }

    #[test]
    fn the_five_lookalikes_of_bob_are_refused_or_kept_apart() {
        assert_eq!(Principal::parse(" bob"), Err(PrincipalError::SurroundingWhitespace));
        assert_eq!(Principal::parse("bob\t"), Err(PrincipalError::NotPrintable));
        assert_eq!(
            Principal::parse("bo\u{200B}b"),
            Err(PrincipalError::Forbidden { kind: Forbidden::Invisible, character: '\u{200B}', index: 2 })
        );
        assert_eq!(
            Principal::parse("admin\u{202E}gnp.exe"),
            Err(PrincipalError::Forbidden { kind: Forbidden::Bidi, character: '\u{202E}', index: 5 })
        );
        assert_eq!(
            Principal::parse("bob\u{2066}").unwrap_err().to_string(),
            "principal contains U+2066 (bidirectional control) at character 3"
        );
        assert_eq!(
            Principal::parse("bob\u{00A0}smith"),
            Err(PrincipalError::Forbidden { kind: Forbidden::Whitespace, character: '\u{00A0}', index: 3 })
        );
        assert!(Principal::parse("bob smith").is_ok(), "an inner space is fine");
    }

    #[test]
    fn stored_principals_of_the_old_rules_are_still_read_and_looked_up_verbatim() {
        for old in [" bob", "bo\u{200B}b", "admin\u{202E}gnp.exe", "bob\u{FEFF}"] {
            assert_eq!(Principal::parse_any(old).unwrap().as_str(), old);
            assert_eq!(Principal::lookup(old).unwrap().as_str(), old);
            let read: Principal = serde_json::from_value(serde_json::json!(old)).unwrap();
            assert_eq!(read.as_str(), old);
        }
        assert_eq!(Principal::lookup("a\u{0}b"), Err(PrincipalError::NotPrintable));
    }

    #[test]
    fn length_is_counted_after_normalisation() {
        // U+0958 is a composition exclusion: NFC writes it as two characters, 3 bytes → 6.
        let text = "\u{0958}".repeat(50);
        let normal: String = text.nfc().collect();
        assert!(normal.len() > text.len());
        assert_eq!(Principal::parse(&text), Err(PrincipalError::TooLong { actual: normal.len() }));
    }

    proptest::proptest! {
        #[test]
        fn accepted_principals_are_nfc_free_of_forbidden_characters_and_stable(text in "\\PC{1,40}") {
            if let Ok(principal) = Principal::parse(&text) {
                let s = principal.as_str();
                proptest::prop_assert!(unicode_normalization::is_nfc(s));
                proptest::prop_assert!(s.chars().all(|c| chars::forbidden(c).is_none() && !c.is_control()));
                proptest::prop_assert_eq!(s.trim(), s);
                proptest::prop_assert_eq!(Principal::parse(s), Ok(principal.clone()));
                proptest::prop_assert_eq!(Principal::lookup(s), Ok(principal.clone()));
            }
        }

        #[test]
        fn any_forbidden_character_is_refused(
            left in "[a-z]{0,8}",
            right in "[a-z]{1,8}",
            code in proptest::sample::select(vec![0x200Bu32, 0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202E, 0x2060, 0x2066, 0x2069, 0xFEFF, 0x00AD, 0x00A0, 0x3000]),
        ) {
            let c = char::from_u32(code).unwrap();
            let text = format!("{left}{c}{right}");
            let refused = matches!(Principal::parse(&text), Err(PrincipalError::Forbidden { .. }));
            proptest::prop_assert!(refused, "{:?} was accepted", text);
        }
    }

    #[test]
    fn anonymous_principals_are_distinct_and_marked() {
        let (a, b) = (Principal::anonymous(), Principal::anonymous());
        assert_ne!(a, b);
        assert!(a.is_anonymous());
        assert!(Principal::parse_any(a.as_str()).is_ok());
    }
}
