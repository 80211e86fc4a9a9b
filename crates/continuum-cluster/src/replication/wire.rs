//! The node-to-node wire format: versioned, so a peer of another version is refused with a
//! clear error and never misread.
//!
//! A connection carries length-delimited frames (a 4-byte big-endian length, then the frame).
//! A frame is a 4-byte big-endian header length, a JSON header ([`Envelope`]), and a body of
//! raw bytes (a document update, a snapshot) that the header describes, so document bytes are
//! never base64-encoded. The first frame each way is the handshake: the dialer's [`Hello`], the
//! listener's [`Welcome`]; a [`Welcome::Refused`] ends the connection.

use bytes::{BufMut, Bytes, BytesMut};
use continuum_core::{Principal, SessionId, SessionRecord, Timestamp};
use serde::{Deserialize, Serialize};

pub use super::handshake::{Hello, MAGIC, WIRE_VERSION, Welcome, check_hello};

/// The largest frame either side reads (a document snapshot included).
pub const MAX_FRAME_BYTES: usize = 32 * 1024 * 1024;

/// A document as it travels: scope and name as text (`DocKey::parse` reads them back).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireDoc {
    /// The scope, `user:…` or `session:…`.
    pub scope: String,
    /// The name.
    pub name: String,
}

/// What one node asks another. Requests a primary serves for a node without a copy
/// (forwarded, one hop) and requests a primary sends its backups (carrying its view's
/// fingerprint, see [`super::view::View::fingerprint`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Forwarded: insert a session.
    Insert {
        /// The session.
        record: SessionRecord,
    },
    /// Forwarded: read a session.
    Get {
        /// Its id.
        sid: SessionId,
    },
    /// From a node catching up: the copy of a session this node holds, whether or not it owns
    /// it under its view (it may have owned it while the asker was away). Since wire version 3.
    GetHeld {
        /// Its id.
        sid: SessionId,
    },
    /// To a backup, after the write was applied everywhere: its copy of `sid` at `version` is
    /// no longer pending (see `super::pending`). Since wire version 3.
    Committed {
        /// The session.
        sid: SessionId,
        /// The version the primary applied.
        version: u64,
    },
    /// Forwarded: compare-and-swap a session.
    Replace {
        /// The version the write is based on.
        expected: u64,
        /// The new record.
        record: SessionRecord,
        /// An earlier attempt of this same write may have reached an owner: a copy equal to
        /// `record` ([`super::merge::is_same_write`]) is this write, finished rather than
        /// refused as a conflict. Since wire version 3.
        retry: bool,
    },
    /// Forwarded: move `last_seen_at` forward.
    Touch {
        /// The session.
        sid: SessionId,
        /// The new `last_seen_at`.
        at: Timestamp,
    },
    /// Forwarded: a principal's epoch.
    Epoch {
        /// The principal.
        principal: Principal,
    },
    /// Forwarded: bump a principal's epoch.
    BumpEpoch {
        /// The principal.
        principal: Principal,
    },
    /// To a backup: keep this copy unless the one held is as new (see `merge`).
    Put {
        /// The primary's view fingerprint.
        view: u64,
        /// The copy.
        record: SessionRecord,
    },
    /// To a backup: raise the principal's epoch to at least `epoch`.
    RaiseEpoch {
        /// The primary's view fingerprint.
        view: u64,
        /// The principal.
        principal: Principal,
        /// The primary's new epoch.
        epoch: u64,
    },
    /// To every node: its copies of the principal's sessions.
    ListLocal {
        /// The principal.
        principal: Principal,
    },
    /// To every node: how many sessions it holds as primary.
    CountPrimary,
    /// To every node: up to `limit` sessions due at `now` that it is the primary of.
    DuePrimary {
        /// The purge time.
        now: Timestamp,
        /// How many at most.
        limit: usize,
    },
    /// To every node: delete its copies of these sessions if they are due at `now`.
    PurgeIds {
        /// The purge time.
        now: Timestamp,
        /// The sessions.
        sids: Vec<SessionId>,
    },
    /// Forwarded: a document's stored state. The reply's body holds the snapshot and updates.
    Load {
        /// The document.
        doc: WireDoc,
    },
    /// From a node catching up: the copy of a document this node holds, whether or not it owns
    /// it under its view (it may have owned it while the asker was away). Since wire version 3.
    LoadHeld {
        /// The document.
        doc: WireDoc,
    },
    /// Forwarded: append the body (an update) to a document.
    Append {
        /// The document.
        doc: WireDoc,
    },
    /// To a backup: append the body (an update) the primary appended.
    CopyAppend {
        /// The primary's view fingerprint.
        view: u64,
        /// The document.
        doc: WireDoc,
    },
    /// To a backup: save the version (state in the body) the primary saved.
    CopyVersion {
        /// The primary's view fingerprint.
        view: u64,
        /// The document.
        doc: WireDoc,
        /// The version's name.
        name: String,
        /// When it was taken.
        created_at: Timestamp,
    },
    /// Forwarded: compact the document with the body as the snapshot.
    Compact {
        /// The document.
        doc: WireDoc,
        /// Through which update.
        through_seq: u64,
    },
    /// Forwarded: save a named version whose state is the body.
    SaveVersion {
        /// The document.
        doc: WireDoc,
        /// The version's name.
        name: String,
        /// When it was taken.
        created_at: Timestamp,
    },
    /// Forwarded: the document's versions.
    Versions {
        /// The document.
        doc: WireDoc,
    },
    /// Forwarded: one version; its state is the reply's body.
    Version {
        /// The document.
        doc: WireDoc,
        /// The version id.
        id: u64,
    },
    /// To every node: the names of the documents of `scope` it holds as primary.
    DocNamesPrimary {
        /// The scope.
        scope: String,
    },
    /// After a membership change, from a node holding them: copies of sessions this node
    /// became an owner of. Kept where newer than the copy held (see `merge`); no view check,
    /// since a copy that is not newer changes nothing.
    Handoff {
        /// The copies, tombstones included.
        records: Vec<SessionRecord>,
    },
    /// After a membership change, from a node holding them: the epochs of principals this
    /// node became an owner of; each is raised to at least the one sent (epochs only grow).
    HandoffEpochs {
        /// Principals and their epochs.
        epochs: Vec<(Principal, u64)>,
    },
    /// After a membership change, from a node holding it: a document this node became an
    /// owner of; the body is the snapshot then the updates, back to back. The pieces this node
    /// does not hold yet are appended (Yjs updates merge).
    HandoffDoc {
        /// The document.
        doc: WireDoc,
        /// The snapshot's length in the body, if there is one.
        snapshot: Option<u32>,
        /// Each update's length in the body, in order.
        updates: Vec<u32>,
    },
    /// After a membership change, from a node holding it: a named version (its state in the
    /// body) of a document this node became an owner of; saved unless a version of that name
    /// and time is held. Since wire version 3.
    HandoffVersion {
        /// The document.
        doc: WireDoc,
        /// The version's name.
        name: String,
        /// When it was taken.
        created_at: Timestamp,
    },
    /// A bus notice (see `continuum_store::bus::encode`), for the node's relay.
    Notice {
        /// The encoded notice.
        payload: String,
    },
}

/// A version's metadata as it travels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireVersion {
    /// Its id.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// When it was taken.
    pub created_at: Timestamp,
}

/// A purged session as it travels (see `continuum_store::PurgedSession`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WirePurged {
    /// Its id.
    pub sid: SessionId,
    /// Whose it was.
    pub principal: Principal,
    /// Whether it expired (rather than being a tombstone).
    pub expired: bool,
}

impl From<continuum_store::PurgedSession> for WirePurged {
    fn from(purged: continuum_store::PurgedSession) -> Self {
        Self { sid: purged.sid, principal: purged.principal, expired: purged.expired }
    }
}

impl From<WirePurged> for continuum_store::PurgedSession {
    fn from(purged: WirePurged) -> Self {
        Self { sid: purged.sid, principal: purged.principal, expired: purged.expired }
    }
}

/// A successful answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Reply {
    /// Done; nothing to return.
    Done,
    /// A session, or none.
    Record {
        /// The session.
        record: Option<SessionRecord>,
    },
    /// Sessions.
    Records {
        /// The sessions.
        records: Vec<SessionRecord>,
    },
    /// A number (an epoch, a count, a sequence number).
    Number {
        /// The number.
        value: u64,
    },
    /// A document's stored state; the body is the snapshot then the updates, back to back.
    Doc {
        /// The snapshot's length in the body, if there is one.
        snapshot: Option<u32>,
        /// Each update's length in the body, in order.
        updates: Vec<u32>,
        /// The last sequence number.
        last_seq: u64,
    },
    /// Versions' metadata, oldest first.
    Versions {
        /// The versions.
        versions: Vec<WireVersion>,
    },
    /// One version, or none; the body is its state.
    Version {
        /// The version.
        version: Option<WireVersion>,
    },
    /// Sessions deleted by a purge.
    Purged {
        /// The sessions.
        sessions: Vec<WirePurged>,
    },
    /// Document names.
    Names {
        /// The names.
        names: Vec<String>,
    },
}

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Refusal {
    /// The session exists.
    #[error("a session with this id already exists")]
    AlreadyExists,
    /// No such session.
    #[error("no session with this id")]
    NotFound,
    /// A compare-and-swap lost.
    #[error("the session changed: expected version {expected}, found {actual}")]
    VersionConflict {
        /// The write's base.
        expected: u64,
        /// What the primary holds.
        actual: u64,
    },
    /// The write breaks a store rule.
    #[error("invalid write: {message}")]
    InvalidWrite {
        /// Which rule.
        message: String,
    },
    /// The receiver does not own the key under its view (forwarded to a non-primary, or a
    /// backup copy from a node that is not the primary there).
    #[error("this node is not the key's primary under its view")]
    NotOwner,
    /// The sender's view is not the receiver's: membership is changing; retry when it settled.
    #[error("the views of the two nodes differ")]
    StaleView,
    /// The receiver has no quorum.
    #[error("the node has no quorum")]
    NoQuorum,
    /// The receiver is shutting down.
    #[error("the node is closing")]
    Closed,
    /// The request does not decode or names something invalid.
    #[error("bad request: {message}")]
    BadRequest {
        /// What was wrong.
        message: String,
    },
    /// The receiver's store failed.
    #[error("the peer's store failed: {message}")]
    Failed {
        /// Its error, as text (the cause stays in the peer's log).
        message: String,
    },
}

/// The header of every frame after the handshake.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "snake_case")]
pub enum Envelope {
    /// A request, answered by the response with the same id.
    Request {
        /// Chosen by the sender, unique on the connection.
        id: u64,
        /// What is asked.
        request: Request,
    },
    /// The answer to request `id`.
    Response {
        /// The request's id.
        id: u64,
        /// The answer.
        result: Result<Reply, Refusal>,
    },
}

/// A frame that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// Shorter than its header length says.
    #[error("a frame of {len} bytes is too short for its header")]
    Truncated {
        /// The frame's length.
        len: usize,
    },
    /// The header is not the JSON of a message.
    #[error("a frame's header does not decode")]
    Header(#[source] serde_json::Error),
}

/// Encodes a header and a body as one frame (without the outer length, which the codec adds).
pub fn encode_frame<H: Serialize>(header: &H, body: &[u8]) -> Bytes {
    let header = serde_json::to_vec(header).expect("wire messages serialize");
    let mut frame = BytesMut::with_capacity(4 + header.len() + body.len());
    frame.put_u32(u32::try_from(header.len()).expect("a header under 4 GiB"));
    frame.extend_from_slice(&header);
    frame.extend_from_slice(body);
    frame.freeze()
}

/// Splits a frame into its decoded header and its body.
pub fn decode_frame<H: for<'de> Deserialize<'de>>(frame: Bytes) -> Result<(H, Bytes), FrameError> {
    let len = frame.len();
    if len < 4 {
        return Err(FrameError::Truncated { len });
    }
    let header_len = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
    if len - 4 < header_len {
        return Err(FrameError::Truncated { len });
    }
    let header = serde_json::from_slice(&frame[4..4 + header_len]).map_err(FrameError::Header)?;
    Ok((header, frame.slice(4 + header_len..)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_a_header_and_raw_bytes() {
        let envelope = Envelope::Request {
            id: 9,
            request: Request::Append { doc: WireDoc { scope: "user:alice".into(), name: "draft".into() } },
        };
        let frame = encode_frame(&envelope, &[0, 1, 2, 255]);
        let (back, body): (Envelope, Bytes) = decode_frame(frame).expect("decodes");
        assert_eq!(back, envelope);
        assert_eq!(&body[..], &[0, 1, 2, 255]);
    }

    #[test]
    fn damaged_frames_are_errors_not_panics() {
        assert!(matches!(
            decode_frame::<Envelope>(Bytes::from_static(&[0, 0])),
            Err(FrameError::Truncated { .. })
        ));
        assert!(matches!(
            decode_frame::<Envelope>(Bytes::from_static(&[0, 0, 0, 9, b'{'])),
            Err(FrameError::Truncated { .. })
        ));
        assert!(matches!(
            decode_frame::<Envelope>(Bytes::from_static(&[0, 0, 0, 1, b'{'])),
            Err(FrameError::Header(_))
        ));
    }
}
