//! [`Peer`]: one client connection's side of the y-websocket protocol, without the transport.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;

use crate::SyncError;
use crate::live_doc::{LiveDoc, Origin};
use crate::outbox::Outbox;
use crate::protocol::{self, Inbound};
use crate::state::{Attached, PeerId};

/// How a peer wants to be served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeerOptions {
    /// Send durability acks (message type 100, see [`crate::ack`]) for this peer's changes.
    pub acks: bool,
    /// The session that opened this connection, if any: shown in listings of live documents
    /// ([`crate::DocRegistry::live_docs`]), never used for access decisions.
    pub session: Option<continuum_core::SessionId>,
    /// The connection only reads (an edge's downstream from its origin, whose own updates go up
    /// by another path): nothing it sends changes the document. Its sync step 2 (the protocol's
    /// automatic answer to the server's step 1) is ignored, and an update is refused with
    /// [`SyncError::ReadOnly`].
    pub read_only: bool,
    /// The connection relays another tier's devices (an edge's downstream, at the origin and at
    /// the edge): it may announce awareness states for up to [`crate::MAX_RELAYED_CLIENTS`] clients (a
    /// device's connection: 16), and it is not one of the document's devices
    /// ([`LiveDoc::device_count`]).
    pub relay: bool,
}

/// One client connection to a [`LiveDoc`]: the transport (a WebSocket in the server) sends the
/// [`Peer::take_greeting`], feeds every binary message to [`Peer::receive`] and sends back its
/// replies, and forwards [`Peer::next_outbound`] to the client (with whatever
/// [`Peer::try_next_outbound`] has ready, to write several messages per flush).
///
/// # Slow peers
/// What other peers change reaches this one through a queue of
/// [`crate::SyncConfig::outbound_capacity`] messages. When it is full the peer is too slow: the
/// document drops its queue and detaches it, [`Peer::next_outbound`] returns `None` and
/// [`Peer::receive`] fails with [`SyncError::Detached`]. The transport then closes the
/// connection; the client reconnects and resyncs with sync step 1 and 2, which loses nothing.
///
/// Dropping a `Peer` detaches it: the awareness states its clients announced are removed and
/// the removal broadcast to the other peers.
pub struct Peer {
    doc: Arc<LiveDoc>,
    id: PeerId,
    outbound: Arc<Outbox>,
    /// Set by the document when it lets go of this peer.
    detached: Arc<AtomicBool>,
    /// Empty once taken: it can hold every awareness state of the document, which a
    /// long-lived connection should not keep.
    greeting: Vec<Bytes>,
    acks: bool,
    read_only: bool,
    /// The session that opened this connection: who wrote what it sends.
    session: Option<continuum_core::SessionId>,
    /// How many content-bearing messages (updates and sync step 2) this peer sent; the ack
    /// count of the latest.
    content_messages: u64,
}

impl Peer {
    fn new(doc: Arc<LiveDoc>, attached: Attached, options: PeerOptions) -> Self {
        Self {
            doc,
            id: attached.id,
            outbound: attached.outbound,
            detached: attached.detached,
            greeting: attached.greeting,
            acks: options.acks,
            read_only: options.read_only,
            session: options.session,
            content_messages: 0,
        }
    }

    /// The messages to send right after connecting: the server's sync step 1 (so the client
    /// sends what the server lacks), then the current awareness states if there are any.
    /// The first call takes them; later calls return nothing.
    pub fn take_greeting(&mut self) -> Vec<Bytes> {
        std::mem::take(&mut self.greeting)
    }

    /// The document this peer syncs with.
    pub fn doc(&self) -> &Arc<LiveDoc> {
        &self.doc
    }

    /// Whether the document let go of this peer (too slow, or the document failed).
    pub fn is_detached(&self) -> bool {
        self.detached.load(Ordering::SeqCst)
    }

    /// Handles one binary message from the client and returns the replies for it alone: a sync
    /// step 2 for its step 1, the awareness states for its query.
    ///
    /// Updates (and the client's sync step 2) are applied and broadcast to the other peers
    /// before this returns, and queued for the store; it does not wait for the store, except
    /// for room in the document's bounded persistence queue. With acks on, their durability is
    /// reported later through [`Peer::next_outbound`].
    ///
    /// Errors: [`SyncError::MessageTooLarge`], [`SyncError::Malformed`] and
    /// [`SyncError::Rejected`] for bad input, [`SyncError::ReadOnly`] for an update from a
    /// read-only peer, [`SyncError::DocTooLarge`] for an update that was
    /// refused (none of these apply anything of the failing message, though earlier protocol
    /// messages in the same frame stay applied), [`SyncError::Detached`] and
    /// [`SyncError::Persistence`] when the peer or its document is gone. After an error the
    /// transport should close the connection.
    pub async fn receive(&mut self, message: &[u8]) -> Result<Vec<Vec<u8>>, SyncError> {
        let limit = self.doc.config.max_message_bytes;
        if message.len() > limit {
            return Err(SyncError::MessageTooLarge { limit, size: message.len() });
        }
        if self.is_detached() {
            return Err(SyncError::Detached);
        }
        let mut replies = Vec::new();
        for inbound in protocol::decode(message).map_err(SyncError::Malformed)? {
            match inbound {
                Inbound::SyncStep1(state_vector) => {
                    replies.push(protocol::sync_step2(self.doc.core.lock().diff(&state_vector)));
                }
                Inbound::SyncStep2(_) if self.read_only => {}
                Inbound::Update(_) if self.read_only => return Err(SyncError::ReadOnly),
                Inbound::SyncStep2(update) | Inbound::Update(update) => {
                    self.apply(update).await?;
                }
                Inbound::Awareness(update) => {
                    let mut state = self.doc.core.lock();
                    if !state.is_attached(self.id) {
                        return Err(SyncError::Detached);
                    }
                    state.apply_awareness(self.id, update);
                }
                Inbound::QueryAwareness => replies.extend(self.doc.core.lock().awareness_query()),
                Inbound::Auth | Inbound::Unknown(_) => {}
            }
        }
        Ok(replies)
    }

    /// Applies one Yjs v1 update as an update message from this peer would be, and returns
    /// whether it changed the document: `false` when the document had all of it already (then
    /// nothing was broadcast or queued for the store). How a replay tells an update it applies
    /// from one an earlier attempt already applied. Errors as [`Peer::receive`]'s.
    pub async fn receive_update(&mut self, update: &[u8]) -> Result<bool, SyncError> {
        let limit = self.doc.config.max_message_bytes;
        if update.len() > limit {
            return Err(SyncError::MessageTooLarge { limit, size: update.len() });
        }
        if self.is_detached() {
            return Err(SyncError::Detached);
        }
        if self.read_only {
            return Err(SyncError::ReadOnly);
        }
        self.apply(update.to_vec()).await
    }

    /// Applies one content-bearing message and queues it (with its ack, if asked for); returns
    /// whether it changed the document.
    async fn apply(&mut self, bytes: Vec<u8>) -> Result<bool, SyncError> {
        let update = protocol::decode_update(&bytes).map_err(SyncError::Malformed)?;
        let count = self.content_messages + 1;
        let origin = Origin {
            peer: Some(self.id),
            ack: self.acks.then_some(count),
            waits: false,
            writer: self.session,
            from_upstream: false,
        };
        let limit = self.doc.config.max_doc_bytes;
        let mut changed = false;
        self.doc
            .commit(origin, |state| {
                let integrated = state.apply_update(update, &bytes, limit)?;
                changed = integrated.is_some();
                Ok(integrated)
            })
            .await?;
        self.content_messages = count;
        Ok(changed)
    }

    /// The next message for the client: another peer's update, an awareness change, or (with
    /// acks on) a durability ack. `None` once the peer is detached; the transport then closes
    /// the connection.
    ///
    /// Cancel safe: a message is taken from the queue only when the future completes.
    pub async fn next_outbound(&mut self) -> Option<Bytes> {
        if self.is_detached() {
            self.outbound.close();
            return None;
        }
        let message = self.outbound.pop().await?;
        self.unless_detached(message)
    }

    /// The next message for the client if one is queued now, without waiting: what the
    /// transport writes after a [`Peer::next_outbound`] before flushing, so a backlog costs one
    /// socket write per batch instead of one per message. `None` when the queue is empty or the
    /// peer is detached (the next [`Peer::next_outbound`] then returns `None` too).
    pub fn try_next_outbound(&mut self) -> Option<Bytes> {
        if self.is_detached() {
            self.outbound.close();
            return None;
        }
        let message = self.outbound.try_pop()?;
        self.unless_detached(message)
    }

    /// `message`, unless the document let go of this peer meanwhile: what it queued for a
    /// detached peer may have gaps, so none of it is delivered.
    fn unless_detached(&mut self, message: Bytes) -> Option<Bytes> {
        if self.is_detached() {
            self.outbound.close();
            return None;
        }
        Some(message)
    }
}

impl LiveDoc {
    /// Attaches a new peer (one client connection). Send its [`Peer::take_greeting`] first.
    pub fn connect(self: &Arc<Self>, options: PeerOptions) -> Peer {
        let attached = self.core.lock().attach(self.config.outbound_capacity, options.session, options.relay);
        let peer = Peer::new(self.clone(), attached, options);
        self.peers_changed();
        peer
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.doc.detach(self.id);
    }
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer").field("doc", self.doc.key()).field("id", &self.id).finish_non_exhaustive()
    }
}
