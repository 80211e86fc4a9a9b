//! Session ids, secrets, secret digests and the `<sid>.<secret>` token a client holds.
//!
//! Parsing is strict: exact lengths, the base64url alphabet without padding, exactly one dot, and
//! a canonical encoding (the unused low bits of the last character are zero), so one token has
//! exactly one spelling. Anything else is rejected before a store is asked.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// Bytes of randomness in a session id.
pub const SID_BYTES: usize = 16;
/// Characters of a session id in base64url without padding.
pub const SID_CHARS: usize = 22;
/// Bytes of randomness in a session secret.
pub const SECRET_BYTES: usize = 32;
/// Characters of a session secret in base64url without padding.
pub const SECRET_CHARS: usize = 43;
/// Characters of a whole token: sid, dot, secret.
pub const TOKEN_CHARS: usize = SID_CHARS + 1 + SECRET_CHARS;

/// Why a string is not a session id, secret or token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The token is not `<sid>.<secret>` with exactly one dot.
    #[error("a token is `<sid>.<secret>`: {SID_CHARS} characters, one dot, {SECRET_CHARS} characters")]
    Shape,
    /// A part has the wrong number of characters.
    #[error("the {part} must be {expected} characters long, got {actual}")]
    Length {
        /// Which part: `session id` or `secret`.
        part: &'static str,
        /// The required length.
        expected: usize,
        /// The length found.
        actual: usize,
    },
    /// A part is not canonical base64url without padding.
    #[error("the {part} must be base64url (A-Z a-z 0-9 - _) without padding")]
    Alphabet {
        /// Which part: `session id` or `secret`.
        part: &'static str,
    },
}

fn decode_exact<const N: usize>(text: &str, part: &'static str, chars: usize) -> Result<[u8; N], TokenError> {
    if text.len() != chars {
        return Err(TokenError::Length { part, expected: chars, actual: text.chars().count() });
    }
    let mut out = [0u8; N];
    // The engine rejects padding, characters outside the alphabet and non-zero trailing bits.
    match URL_SAFE_NO_PAD.decode_slice(text.as_bytes(), &mut out) {
        Ok(n) if n == N => Ok(out),
        _ => Err(TokenError::Alphabet { part }),
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS CSPRNG failing is not a condition a session service can continue under.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes
}

/// The public id of a session: 16 random bytes, shown as 22 base64url characters.
///
/// Safe in logs, admin views and routing keys; it grants nothing on its own.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId([u8; SID_BYTES]);

impl SessionId {
    /// A new id from the OS CSPRNG.
    pub fn generate() -> Self {
        Self(random())
    }

    /// The id from its raw bytes, as kept in an index.
    pub fn from_bytes(bytes: [u8; SID_BYTES]) -> Self {
        Self(bytes)
    }

    /// The raw bytes of the id.
    pub fn as_bytes(&self) -> &[u8; SID_BYTES] {
        &self.0
    }

    /// Parses the 22-character base64url form.
    pub fn parse(text: &str) -> Result<Self, TokenError> {
        decode_exact(text, "session id", SID_CHARS).map(Self)
    }

    /// The 22-character base64url form, on the stack: ids are written into every answer on the
    /// hot path. Every byte is one of `A-Z a-z 0-9 - _`.
    pub fn encoded(&self) -> [u8; SID_CHARS] {
        let mut text = [0u8; SID_CHARS];
        // 16 bytes are exactly 22 characters without padding, so the buffer always fits.
        let written = URL_SAFE_NO_PAD.encode_slice(self.0, &mut text).unwrap_or_default();
        debug_assert_eq!(written, SID_CHARS);
        text
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.encoded();
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({self})")
    }
}

impl FromStr for SessionId {
    type Err = TokenError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for SessionId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The secret half of a token: 32 random bytes. Only its [`SecretDigest`] is ever stored.
///
/// `Debug` never prints it.
#[derive(Clone)]
pub struct Secret([u8; SECRET_BYTES]);

impl Secret {
    /// A new secret from the OS CSPRNG.
    pub fn generate() -> Self {
        Self(random())
    }

    /// Parses the 43-character base64url form.
    pub fn parse(text: &str) -> Result<Self, TokenError> {
        decode_exact(text, "secret", SECRET_CHARS).map(Self)
    }

    /// SHA-256 of the secret, the only form a store keeps.
    pub fn digest(&self) -> SecretDigest {
        SecretDigest(Sha256::digest(self.0).into())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// SHA-256 of a [`Secret`], compared in constant time.
#[derive(Clone, Copy, Serialize, Deserialize)]
pub struct SecretDigest(#[serde(with = "digest_b64")] [u8; 32]);

impl SecretDigest {
    /// Whether `other` is the same digest, in time independent of where they differ.
    pub fn ct_eq(&self, other: &SecretDigest) -> bool {
        constant_time_eq::constant_time_eq_32(&self.0, &other.0)
    }
}

impl PartialEq for SecretDigest {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other)
    }
}

impl Eq for SecretDigest {}

impl fmt::Debug for SecretDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretDigest(..)")
    }
}

mod digest_b64 {
    use super::*;

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        decode_exact(&text, "secret digest", SECRET_CHARS).map_err(serde::de::Error::custom)
    }
}

/// What a client holds: `<sid>.<secret>`, 66 characters.
///
/// `Display` prints the whole token: call it only to put the token in the response that issues it.
#[derive(Clone, Debug)]
pub struct Token {
    /// The public half.
    pub sid: SessionId,
    /// The secret half.
    pub secret: Secret,
}

impl Token {
    /// A fresh token with a new id and a new secret.
    pub fn generate() -> Self {
        Self { sid: SessionId::generate(), secret: Secret::generate() }
    }

    /// Parses a token strictly; see the module documentation.
    pub fn parse(text: &str) -> Result<Self, TokenError> {
        let (sid, secret) = text.split_once('.').ok_or(TokenError::Shape)?;
        if secret.contains('.') {
            return Err(TokenError::Shape);
        }
        Ok(Self { sid: SessionId::parse(sid)?, secret: Secret::parse(secret)? })
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.sid, URL_SAFE_NO_PAD.encode(self.secret.0))
    }
}

impl FromStr for Token {
    type Err = TokenError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_token_has_the_documented_shape_and_round_trips() {
        let token = Token::generate();
        let text = token.to_string();
        assert_eq!(text.len(), TOKEN_CHARS);
        assert_eq!(text.find('.'), Some(SID_CHARS));
        let parsed = Token::parse(&text).unwrap();
        assert_eq!(parsed.sid, token.sid);
        assert!(parsed.secret.digest().ct_eq(&token.secret.digest()));
    }

    #[test]
    fn rejects_wrong_shapes() {
        let good = Token::generate().to_string();
        let (sid, secret) = good.split_once('.').unwrap();
        assert_eq!(Token::parse(sid).unwrap_err(), TokenError::Shape);
        assert_eq!(Token::parse(&format!("{sid}.{secret}.x")).unwrap_err(), TokenError::Shape);
        assert!(matches!(Token::parse(&format!("{sid}x.{secret}")), Err(TokenError::Length { .. })));
        assert!(matches!(Token::parse(&format!("{sid}.{secret}=")), Err(TokenError::Length { .. })));
        let plus = format!("{}+{}", &sid[..10], &sid[11..]);
        assert_eq!(
            Token::parse(&format!("{plus}.{secret}")).unwrap_err(),
            TokenError::Alphabet { part: "session id" }
        );
        assert!(Token::parse("").is_err());
        assert!(Token::parse(".").is_err());
    }

    #[test]
    fn rejects_non_canonical_trailing_bits() {
        // 16 bytes use 128 of the 132 bits of 22 characters; a last character with any of the
        // 4 spare bits set decodes to the same bytes and must be refused.
        let sid = SessionId::from_bytes([0; SID_BYTES]).to_string();
        assert_eq!(&sid[21..], "A");
        let alias = format!("{}B", &sid[..21]);
        assert!(SessionId::parse(&alias).is_err());
    }

    #[test]
    fn secrets_never_print() {
        let token = Token::generate();
        let secret_text = token.to_string().split_once('.').unwrap().1.to_owned();
        assert!(!format!("{token:?}").contains(&secret_text));
    }

    proptest! {
        #[test]
        fn any_string_parses_only_if_it_round_trips(text in "\\PC{0,80}") {
            if let Ok(token) = Token::parse(&text) {
                prop_assert_eq!(token.to_string(), text);
            }
        }

        #[test]
        fn changing_any_character_of_a_secret_changes_its_digest(pos in 0usize..SECRET_CHARS, c in "[A-Za-z0-9_-]") {
            let token = Token::generate();
            let text = token.to_string();
            let mut chars: Vec<char> = text.chars().collect();
            let i = SID_CHARS + 1 + pos;
            let replacement = c.chars().next().unwrap();
            prop_assume!(chars[i] != replacement);
            chars[i] = replacement;
            let changed: String = chars.into_iter().collect();
            if let Ok(other) = Token::parse(&changed) {
                prop_assert!(!other.secret.digest().ct_eq(&token.secret.digest()));
            }
        }
    }
}
