//! [`RedisStoreError`]: what went wrong inside the Redis store, carried as the cause of
//! [`continuum_store::StoreError::Backend`].

use continuum_store::StoreError;

/// The causes a [`crate::RedisStore`] reports. Callers see them as the `#[source]` of
/// [`StoreError::Backend`]; each keeps the error underneath it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStoreError {
    /// The configuration cannot work (a brace in the prefix, a cluster URL without nodes).
    #[error("invalid Redis store configuration: {0}")]
    InvalidConfig(&'static str),
    /// The server or cluster could not be reached, or refused the connection (address,
    /// credentials, TLS, a cluster whose slots are not all served).
    #[error("cannot connect to Redis at {url}")]
    Connect {
        /// The configured URL.
        url: String,
        /// What the client reported.
        #[source]
        source: redis::RedisError,
    },
    /// A command failed: the connection broke, the answer timed out, or the server answered
    /// with an error. A write that failed this way may or may not have been applied.
    #[error("the Redis command {command} failed")]
    Command {
        /// The command or script, for logs (`HMGET`, `session_replace`, …).
        command: &'static str,
        /// What the client reported.
        #[source]
        source: redis::RedisError,
    },
    /// A session record did not encode, or a stored one did not decode as the session its key
    /// names.
    #[error(transparent)]
    Record(#[from] continuum_store::RecordCodecError),
    /// A script or command answered in a shape this version does not expect (keys written by
    /// an incompatible version, or changed by hand).
    #[error("unexpected answer from Redis to {command}: {detail}")]
    UnexpectedReply {
        /// The command or script.
        command: &'static str,
        /// What was wrong with it.
        detail: String,
    },
    /// A stored document name is not valid.
    #[error("the stored document name {name:?} is not valid")]
    DocName {
        /// The name found (invalid UTF-8 replaced).
        name: String,
        /// Why it is not a name.
        #[source]
        source: continuum_core::DocNameError,
    },
}

impl RedisStoreError {
    /// A failed command, keeping the client's error as the cause.
    pub(crate) fn command(command: &'static str) -> impl FnOnce(redis::RedisError) -> StoreError {
        move |source| StoreError::backend(Self::Command { command, source })
    }

    /// An answer of the wrong shape.
    pub(crate) fn unexpected(command: &'static str, detail: impl Into<String>) -> StoreError {
        StoreError::backend(Self::UnexpectedReply { command, detail: detail.into() })
    }
}
