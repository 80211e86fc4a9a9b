//! [`ReplicationError`]: what replication itself can fail at.

/// Why replication could not do something.
#[derive(Debug, thiserror::Error)]
pub enum ReplicationError {
    /// Membership did not settle within the settle timeout.
    #[error("the cluster did not settle: {why}")]
    Unsettled {
        /// The last reason an attempt gave.
        why: &'static str,
    },
    /// A peer answered with a reply of another kind than asked for.
    #[error("a peer answered with an unexpected reply: {reply}")]
    UnexpectedReply {
        /// The reply.
        reply: String,
    },
    /// A peer's store failed.
    #[error("a peer's store failed: {message}")]
    Peer {
        /// What it reported.
        message: String,
    },
    /// A peer sent a document key that does not parse.
    #[error("a peer named an invalid document: {0}")]
    BadDoc(#[source] continuum_core::DocNameError),
    /// The cluster listener cannot be bound.
    #[error("cannot listen for peers on {addr}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// No live node holds the key: every one of its owners left at once (see `holdings`).
    #[error("every node holding this {what} left the cluster ({nodes}); it is unavailable until one returns")]
    OwnersLost {
        /// `session` or `document`.
        what: &'static str,
        /// The departed owners, comma-separated.
        nodes: String,
    },
    /// Membership (chitchat) did not start.
    #[error("membership did not start: {0}")]
    Membership(String),
}
