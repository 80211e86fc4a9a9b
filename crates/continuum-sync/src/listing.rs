//! [`LiveDocListing`]: a read-only picture of one document in memory and who is connected to it,
//! for operators' views. Nothing in it is used for access decisions.

use continuum_core::{DocKey, SessionId};

/// One live document at the moment it was listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveDocListing {
    /// The document.
    pub key: DocKey,
    /// The session of every connected peer, in the order they attached; `None` for a peer opened
    /// without a session (a backend, by API key). One session with two sockets appears twice.
    pub peers: Vec<Option<SessionId>>,
}
