//! The sealed token's wire format, and [`AnyToken`], which tells it from a `<sid>.<secret>` token.
//!
//! ```text
//! cs~ base64url( version (1) | key id (4) | nonce (24) | ciphertext of the payload | tag (16) )
//! ```
//!
//! The version byte and key id are the header; they are authenticated as associated data, so
//! neither can be changed without failing authentication. The base64url has no padding and must
//! be canonical (unused trailing bits zero), so one token has exactly one spelling.
//!
//! A stored-session token is 66 characters of the base64url alphabet with exactly one `.`; a
//! sealed token starts with `cs~` and holds no `.`. `~` is outside the base64url alphabet, so no
//! text is both.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::id::{Token, TokenError};
use crate::seal::budget::COOKIE_BUDGET;
use crate::seal::error::OpenError;
pub use crate::seal::format::{HEADER_BYTES, NONCE_BYTES, SEALED_PREFIX, TAG_BYTES, TOKEN_VERSION};
use crate::seal::key::KeyId;

/// The longest sealed token opened, in characters: nothing longer fits in a cookie.
pub const MAX_SEALED_CHARS: usize = COOKIE_BUDGET;

/// The decoded bytes of a sealed token, split into their parts (not yet authenticated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedParts<'a> {
    /// Version byte and key id: the associated data.
    pub header: &'a [u8],
    /// The format version.
    pub version: u8,
    /// The key it claims to be sealed with.
    pub key_id: KeyId,
    /// The nonce.
    pub nonce: &'a [u8],
    /// Ciphertext and tag.
    pub ciphertext: &'a [u8],
}

/// The base64url bytes of `text` after the prefix, refused when they cannot be a sealed token.
pub fn decode(text: &str) -> Result<Vec<u8>, OpenError> {
    let encoded = text.strip_prefix(SEALED_PREFIX).ok_or(OpenError::Prefix)?;
    if text.len() > MAX_SEALED_CHARS {
        return Err(OpenError::TooLong { max: MAX_SEALED_CHARS, actual: text.len() });
    }
    // The engine refuses padding, characters outside the alphabet and non-zero trailing bits.
    let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| OpenError::Encoding)?;
    if bytes.len() < HEADER_BYTES + NONCE_BYTES + TAG_BYTES {
        return Err(OpenError::TooShort);
    }
    Ok(bytes)
}

/// Splits decoded bytes (at least header, nonce and tag long, as [`decode`] ensures).
pub fn split(bytes: &[u8]) -> Result<SealedParts<'_>, OpenError> {
    if bytes.len() < HEADER_BYTES + NONCE_BYTES + TAG_BYTES {
        return Err(OpenError::TooShort);
    }
    let (header, rest) = bytes.split_at(HEADER_BYTES);
    let (nonce, ciphertext) = rest.split_at(NONCE_BYTES);
    let key_id = KeyId([header[1], header[2], header[3], header[4]]);
    Ok(SealedParts { header, version: header[0], key_id, nonce, ciphertext })
}

/// The header of a token sealed now under `key_id`.
pub fn header(key_id: KeyId) -> [u8; HEADER_BYTES] {
    let [a, b, c, d] = key_id.0;
    [TOKEN_VERSION, a, b, c, d]
}

/// The text of a token from its bytes.
pub fn encode(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(SEALED_PREFIX.len() + bytes.len().div_ceil(3) * 4);
    text.push_str(SEALED_PREFIX);
    URL_SAFE_NO_PAD.encode_string(bytes, &mut text);
    text
}

/// A token of either kind, told apart by its shape before any key or store is used.
#[derive(Debug, Clone)]
pub enum AnyToken<'a> {
    /// `<sid>.<secret>`: look the session up in the store.
    Stored(Token),
    /// `cs~…`: open it with the key ring.
    Sealed(&'a str),
}

impl<'a> AnyToken<'a> {
    /// Routes `text` by its prefix. A stored token is parsed strictly here; a sealed one is only
    /// recognised, [`crate::seal::KeyRing::open`] decides the rest.
    pub fn parse(text: &'a str) -> Result<Self, TokenError> {
        if text.starts_with(SEALED_PREFIX) {
            return Ok(Self::Sealed(text));
        }
        Token::parse(text).map(Self::Stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_token_is_never_taken_for_a_sealed_one_and_back() {
        let stored = Token::generate().to_string();
        assert!(matches!(AnyToken::parse(&stored), Ok(AnyToken::Stored(_))));
        assert!(!stored.contains('~'));
        let sealed = encode(&[0u8; 60]);
        assert!(matches!(AnyToken::parse(&sealed), Ok(AnyToken::Sealed(_))));
        assert!(!sealed.contains('.'));
        assert!(Token::parse(&sealed).is_err());
        assert!(AnyToken::parse("cs.x").is_err(), "only the exact prefix routes to the key ring");
    }

    #[test]
    fn decode_refuses_what_cannot_be_a_token() {
        assert!(matches!(decode("xx~AAAA"), Err(OpenError::Prefix)));
        assert!(matches!(decode("cs~"), Err(OpenError::TooShort)));
        assert!(matches!(decode("cs~AAA="), Err(OpenError::Encoding)));
        assert!(matches!(decode("cs~AA+A"), Err(OpenError::Encoding)));
        // 2 characters decode to 1 byte; a last character with spare bits set is an alias.
        assert!(matches!(decode("cs~AB"), Err(OpenError::Encoding)));
        let long = format!("cs~{}", "A".repeat(MAX_SEALED_CHARS));
        assert!(matches!(decode(&long), Err(OpenError::TooLong { .. })));
        let bytes = [1u8; HEADER_BYTES + NONCE_BYTES + TAG_BYTES];
        assert_eq!(decode(&encode(&bytes)).unwrap(), bytes);
    }

    #[test]
    fn split_reads_the_header() {
        let mut bytes = vec![9, 1, 2, 3, 4];
        bytes.extend([0; NONCE_BYTES + TAG_BYTES]);
        let parts = split(&bytes).unwrap();
        assert_eq!((parts.version, parts.key_id), (9, KeyId([1, 2, 3, 4])));
        assert_eq!(parts.ciphertext.len(), TAG_BYTES);
        assert_eq!(header(KeyId([1, 2, 3, 4])), [TOKEN_VERSION, 1, 2, 3, 4]);
    }
}
