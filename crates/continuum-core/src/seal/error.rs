//! Why a key, a seal or an opening failed.

use crate::seal::key_id::KeyId;

/// Why text is not a sealing key, or keys do not form a ring.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not `sk_` followed by 43 base64url characters (32 bytes).
    #[error("a sealing key is `sk_` and 43 base64url characters (32 random bytes)")]
    Format,
    /// A ring needs a key to seal with.
    #[error("a key ring needs at least one key")]
    Empty,
    /// Two keys derive the same id (the same key twice, or a 32-bit collision).
    #[error("two sealing keys have the same key id {0}; remove the duplicate")]
    DuplicateId(KeyId),
}

/// Why a session could not be sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The cookie carrying the token would pass the browser's budget.
    #[error(
        "the sealed token would make a {bytes}-byte cookie (name=value), over the {budget}-byte \
         budget browsers keep; store fewer or smaller attributes, or use a stored session"
    )]
    CookieTooLarge {
        /// Bytes of `name=value`.
        bytes: usize,
        /// The budget, [`crate::seal::COOKIE_BUDGET`].
        budget: usize,
    },
    /// The payload could not be encoded (it holds only serializable types, so this is a bug).
    #[error("cannot encode the sealed session")]
    Encode(#[source] serde_json::Error),
    /// The cipher refused the plaintext (only past its length limit of 256 GiB).
    #[error("the cipher refused to seal the session")]
    Encrypt,
}

/// Why a token does not open to a session. Every variant means "not a token of ours"; they are
/// told apart for the caller's error message and for tests.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Does not start with [`crate::seal::format::SEALED_PREFIX`].
    #[error("a sealed token starts with `{}`", crate::seal::format::SEALED_PREFIX)]
    Prefix,
    /// Longer than any token this code seals, refused before decoding.
    #[error("a sealed token is at most {max} characters, got {actual}")]
    TooLong {
        /// The longest accepted.
        max: usize,
        /// The length found.
        actual: usize,
    },
    /// Not canonical base64url without padding.
    #[error("a sealed token must be base64url (A-Z a-z 0-9 - _) without padding after `cs~`")]
    Encoding,
    /// Too short to hold the header, nonce and tag.
    #[error("a sealed token is too short to hold a sealed session")]
    TooShort,
    /// A version byte this code does not read.
    #[error("sealed token version {0} is not supported (this server reads version {v})", v = crate::seal::format::TOKEN_VERSION)]
    UnsupportedVersion(u8),
    /// Sealed under a key that is not (or no longer) in the ring.
    #[error("the token was sealed with key {0}, which this server does not hold (retired or foreign)")]
    UnknownKey(KeyId),
    /// Authentication failed: the token was altered, or not sealed by this key.
    #[error("the sealed token failed authentication (altered or forged)")]
    Forged,
    /// Authentic, but the payload is not a session this code reads.
    #[error("the sealed token's payload is not a session")]
    Payload(#[source] serde_json::Error),
}
