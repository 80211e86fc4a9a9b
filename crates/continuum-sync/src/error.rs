//! [`SyncError`]: why a sync message, a document operation or a load was refused or failed.

use std::sync::Arc;

use continuum_store::StoreError;

/// Why a continuity document operation failed. Each variant names its cause and keeps the
/// underlying error as its source.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// A peer sent a message larger than [`crate::SyncConfig::max_message_bytes`]. The server
    /// closes the connection; nothing of the message was applied.
    #[error("the message is {size} bytes, over the limit of {limit}")]
    MessageTooLarge {
        /// The limit in bytes.
        limit: usize,
        /// The size of the refused message.
        size: usize,
    },
    /// A message is not valid y-websocket protocol, or its update is not a valid Yjs v1 update.
    #[error("malformed sync message")]
    Malformed(#[source] yrs::encoding::read::Error),
    /// A Yjs update decoded but could not be integrated into the document.
    #[error("the update cannot be applied to the document")]
    Rejected(#[source] yrs::error::UpdateError),
    /// The change would take the encoded document past [`crate::SyncConfig::max_doc_bytes`]; it
    /// was not applied, broadcast or persisted.
    #[error("the document would exceed its size limit of {limit} bytes")]
    DocTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A store call made on behalf of the caller failed (loading, versions).
    #[error("the document store failed")]
    Store(#[source] StoreError),
    /// Writing the document's changes to the store failed. The document was dropped from memory
    /// and its peers detached; reconnecting clients reload it from the store and resend what it
    /// lacks.
    #[error("persisting the document failed")]
    Persistence(#[source] Arc<StoreError>),
    /// What the store holds for the document cannot be decoded or applied.
    #[error("the stored document is corrupt")]
    Corrupt(#[source] yrs::error::Error),
    /// A JSON patch names a root that holds something other than a map.
    #[error("the root `{root}` is not a map")]
    NotAMap {
        /// The root's name.
        root: String,
    },
    /// A JSON patch is not an object of merge patches (RFC 7396), one per root map.
    #[error("invalid patch: {0}")]
    InvalidPatch(&'static str),
    /// A read-only peer ([`crate::PeerOptions::read_only`]) sent an update; nothing of it was
    /// applied.
    #[error("this connection only reads: it may not change the document")]
    ReadOnly,
    /// The peer was detached (its outbound queue overflowed or the document failed) and takes no
    /// more messages; the client must reconnect.
    #[error("the peer is detached from its document")]
    Detached,
    /// The document's persistence stopped without an answer (the runtime is shutting down).
    #[error("the document is closed")]
    Closed,
}
