//! [`AtRestError`]: why a record read from the store could not be decrypted. It reaches callers
//! as the cause of [`crate::StoreError::Backend`]: never a panic, never plaintext garbage.

use continuum_core::at_rest::DecryptError;

/// Why a stored record could not be decrypted.
#[derive(Debug, thiserror::Error)]
pub enum AtRestError {
    /// The blob did not open: another node's or a retired key, altered bytes, or a blob moved
    /// from another record.
    #[error("cannot decrypt the stored {record}")]
    Decrypt {
        /// Which record (a session id, a document and what its bytes are).
        record: String,
        /// Why.
        #[source]
        source: DecryptError,
    },
    /// The session's encrypted attributes are not base64url.
    #[error("the stored {record} holds a damaged encrypted value")]
    Encoding {
        /// Which record.
        record: String,
    },
    /// The blob opened but its content is not what this code writes.
    #[error("the decrypted {record} does not decode")]
    Payload {
        /// Which record.
        record: String,
        /// What serde_json reported.
        #[source]
        source: serde_json::Error,
    },
}
