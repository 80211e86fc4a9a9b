//! Why a data key, a data key ring or an encrypted blob could not be used.

use crate::seal::key_id::KeyId;

/// Why text is not a data key, or keys do not form a ring.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataKeyError {
    /// Not `dk_` followed by 43 base64url characters (32 bytes).
    #[error("a data key is `dk_` and 43 base64url characters (32 random bytes)")]
    Format,
    /// A ring needs a key to encrypt with.
    #[error("a data key ring needs at least one key")]
    Empty,
    /// Two keys derive the same id (the same key twice, or a 32-bit collision).
    #[error("two data keys have the same key id {0}; remove the duplicate")]
    DuplicateId(KeyId),
}

/// Why stored bytes did not decrypt. None of these releases any plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// Shorter than the magic, key id, nonce and tag.
    #[error("the encrypted data is truncated")]
    Truncated,
    /// Encrypted under a key this node's ring does not hold.
    #[error(
        "the data was encrypted with data key {0}, which this node does not hold (retired, \
         another node's, or the key file was lost)"
    )]
    UnknownKey(KeyId),
    /// Authentication failed: the bytes were altered, or belong to another record.
    #[error("the encrypted data failed authentication (altered, or moved from another record)")]
    Forged,
}
