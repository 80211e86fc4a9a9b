//! [`Bus`]: the port through which the nodes of one deployment tell each other what changed, so
//! a document update or a revocation made through node A reaches the sockets and caches of node
//! B at once.
//!
//! The owner of what travels on it is `continuum-cluster`: its relay decides what a node
//! announces and what it does with what it hears. This crate holds only the port — the trait,
//! the notices, the wire format and the subscription loop — so that a shared store can
//! implement it without depending on the cluster (and on the document engine behind it).
//!
//! A shared store brings its own bus (Redis pub/sub, PostgreSQL `LISTEN`/`NOTIFY`); the embedded
//! and memory stores serve one node and need none. A bus is a notification channel, not a log:
//! a notice can be missed (a broken subscription, a slow subscriber), and every consumer must
//! treat [`Heard::Gap`] as "reconcile with the store", which stays the source of truth.
//!
//! Notices travel as one JSON text each ([`encode`], [`decode`]), so every transport, including
//! PostgreSQL's text-only `NOTIFY`, carries the same format.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use continuum_core::{DocKey, Principal, SessionId, Timestamp};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::events::{SessionEvent, SessionEventKind};
use crate::store::StoreError;

mod listen;

pub use listen::{FIRST_BACKOFF, MAX_BACKOFF, Subscription, backoff_after, keep_listening};

/// What one node tells the others.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// Something happened to a session.
    Session(SessionEvent),
    /// An update was appended to a document's log, with sequence number `seq`.
    DocAppended {
        /// The document.
        key: DocKey,
        /// The update's sequence number in the log.
        seq: u64,
        /// The update itself, or `None` when it was too large for the transport: the receiver
        /// reads the log from the store instead.
        update: Option<Vec<u8>>,
    },
    /// A principal was signed out everywhere: its epoch was bumped, and every node must drop
    /// its cached epoch so sealed tokens issued before die at once.
    SignedOutEverywhere {
        /// The principal.
        principal: Principal,
    },
    /// A session's record was written (created, patched, rotated, revoked) through the node
    /// that sends this: a node caching records (`serve --session-cache`) reads it from the
    /// store again. Sent only by nodes with the cache on.
    SessionWritten {
        /// The session.
        sid: SessionId,
    },
    /// The sender is alive and publishing, once a second from each node with the cache on: how
    /// a cache tells a quiet bus from a subscription that broke without saying so.
    Heartbeat,
}

/// What a subscriber hears.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Heard {
    /// A notice from another node.
    Notice(Arc<Notice>),
    /// Notices may have been missed (the subscription broke and came back): reconcile with the
    /// store.
    Gap,
}

/// A channel between the nodes of one deployment: a shared store's pub/sub, or any other
/// source (`continuum_cluster::MemoryBus` in one process). Notices are delivered to the *other*
/// nodes, at most once and in no promised order across senders. `continuum-cluster`'s relay is
/// its one user: it publishes this node's changes and carries out what it hears.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Sends `notice` to the other nodes. `Ok` means the transport took it, not that anyone
    /// heard it.
    async fn publish(&self, notice: &Notice) -> Result<(), StoreError>;

    /// What the other nodes publish from now on. A receiver that lags behind gets
    /// [`broadcast::error::RecvError::Lagged`], which means the same as [`Heard::Gap`].
    fn subscribe(&self) -> broadcast::Receiver<Heard>;
}

/// Where a bus's subscription task delivers what it hears: drops this node's own notices and
/// fans the rest out to [`Bus::subscribe`]rs.
#[derive(Debug)]
pub struct Inbox {
    origin: u64,
    sender: broadcast::Sender<Heard>,
}

/// How many notices a subscriber may fall behind before it hears a gap.
pub const INBOX_CAPACITY: usize = 4096;

impl Inbox {
    /// An inbox for a node that signs its notices with `origin` (see [`encode`]).
    pub fn new(origin: u64) -> Self {
        Self { origin, sender: broadcast::channel(INBOX_CAPACITY).0 }
    }

    /// A random origin for a new node.
    pub fn random_origin() -> u64 {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("the operating system's random source works");
        u64::from_le_bytes(bytes)
    }

    /// This node's origin.
    pub fn origin(&self) -> u64 {
        self.origin
    }

    /// A new subscriber.
    pub fn subscribe(&self) -> broadcast::Receiver<Heard> {
        self.sender.subscribe()
    }

    /// Delivers one payload as the transport received it; payloads from this node and
    /// payloads that do not decode (logged) are dropped.
    pub fn deliver(&self, payload: &str) {
        match decode(payload) {
            Ok((origin, _)) if origin == self.origin => {}
            Ok((_, notice)) => {
                let _ = self.sender.send(Heard::Notice(Arc::new(notice)));
            }
            Err(error) => tracing::warn!(%error, "dropped a bus notice that does not decode"),
        }
    }

    /// Tells every subscriber that notices may have been missed.
    pub fn gap(&self) {
        let _ = self.sender.send(Heard::Gap);
    }
}

/// A payload that is not a notice.
#[derive(Debug, thiserror::Error)]
#[error("malformed bus notice: {0}")]
pub struct DecodeError(String);

#[derive(Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Wire {
    Session { o: u64, kind: String, sid: String, principal: String, at: i64 },
    Doc { o: u64, scope: String, name: String, seq: u64, u: Option<String> },
    Epoch { o: u64, principal: String },
    Written { o: u64, sid: String },
    Beat { o: u64 },
}

/// `notice` from the node `origin` as one JSON text. A document update whose encoding would
/// make the text longer than `max_len` bytes is left out (the receiver reads the store).
pub fn encode(origin: u64, notice: &Notice, max_len: usize) -> String {
    let wire = match notice {
        Notice::Session(event) => Wire::Session {
            o: origin,
            kind: event.kind.as_str().to_owned(),
            sid: event.sid.to_string(),
            principal: event.principal.as_str().to_owned(),
            at: event.at.as_millis(),
        },
        Notice::DocAppended { key, seq, update } => {
            let scope = key.scope.to_string();
            let name = key.name.as_str().to_owned();
            // The fixed part of the text is well under 200 bytes beyond the scope and name.
            let room = max_len.saturating_sub(200 + scope.len() + name.len());
            let u = update
                .as_deref()
                .filter(|update| update.len().div_ceil(3) * 4 <= room)
                .map(|update| URL_SAFE_NO_PAD.encode(update));
            Wire::Doc { o: origin, scope, name, seq: *seq, u }
        }
        Notice::SignedOutEverywhere { principal } => {
            Wire::Epoch { o: origin, principal: principal.as_str().to_owned() }
        }
        Notice::SessionWritten { sid } => Wire::Written { o: origin, sid: sid.to_string() },
        Notice::Heartbeat => Wire::Beat { o: origin },
    };
    serde_json::to_string(&wire).expect("a notice always serializes")
}

/// The origin and notice of a payload made by [`encode`].
pub fn decode(payload: &str) -> Result<(u64, Notice), DecodeError> {
    let bad = |what: &dyn std::fmt::Display| DecodeError(what.to_string());
    let wire: Wire = serde_json::from_str(payload).map_err(|error| bad(&error))?;
    match wire {
        Wire::Session { o, kind, sid, principal, at } => {
            let kind: SessionEventKind = kind.parse().map_err(|error| bad(&error))?;
            let sid = SessionId::parse(&sid).map_err(|error| bad(&error))?;
            let principal = Principal::parse_any(&principal).map_err(|error| bad(&error))?;
            let event = SessionEvent { kind, sid, principal, at: Timestamp::from_millis(at) };
            Ok((o, Notice::Session(event)))
        }
        Wire::Doc { o, scope, name, seq, u } => {
            let key = DocKey::parse(&scope, &name).map_err(|error| bad(&error))?;
            let update = u.map(|u| URL_SAFE_NO_PAD.decode(u)).transpose().map_err(|error| bad(&error))?;
            Ok((o, Notice::DocAppended { key, seq, update }))
        }
        Wire::Epoch { o, principal } => {
            let principal = Principal::parse_any(&principal).map_err(|error| bad(&error))?;
            Ok((o, Notice::SignedOutEverywhere { principal }))
        }
        Wire::Written { o, sid } => {
            let sid = SessionId::parse(&sid).map_err(|error| bad(&error))?;
            Ok((o, Notice::SessionWritten { sid }))
        }
        Wire::Beat { o } => Ok((o, Notice::Heartbeat)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revoked() -> Notice {
        Notice::Session(SessionEvent {
            kind: SessionEventKind::Revoked,
            sid: SessionId::generate(),
            principal: Principal::parse("alice@example.com").unwrap(),
            at: Timestamp::from_millis(1_700_000_000_123),
        })
    }

    fn appended(len: usize) -> Notice {
        let key = DocKey::parse("user:alice", "draft").unwrap();
        Notice::DocAppended { key, seq: 42, update: Some((0..len).map(|i| i as u8).collect()) }
    }

    #[test]
    fn notices_round_trip() {
        let signed_out = Notice::SignedOutEverywhere { principal: Principal::parse("bob").unwrap() };
        let written = Notice::SessionWritten { sid: SessionId::generate() };
        for notice in [revoked(), appended(0), appended(300), signed_out, written, Notice::Heartbeat] {
            let text = encode(7, &notice, 8000);
            assert_eq!(decode(&text).unwrap(), (7, notice));
        }
    }

    #[test]
    fn an_update_too_long_for_the_transport_is_left_out_and_the_text_fits() {
        let Notice::DocAppended { key, seq, .. } = appended(6000) else { unreachable!() };
        let text = encode(1, &appended(6000), 7900);
        assert!(text.len() <= 7900, "{}", text.len());
        assert_eq!(decode(&text).unwrap().1, Notice::DocAppended { key, seq, update: None });
        let fits = encode(1, &appended(5000), 7900);
        assert!(fits.len() <= 7900, "{}", fits.len());
        assert!(
            matches!(decode(&fits).unwrap().1, Notice::DocAppended { update: Some(u), .. } if u.len() == 5000)
        );
    }

    #[test]
    fn malformed_payloads_are_errors() {
        for payload in [
            "",
            "{}",
            r#"{"t":"session","o":1,"kind":"exploded","sid":"x","principal":"a","at":0}"#,
            r#"{"t":"doc","o":1,"scope":"nobody","name":"d","seq":1,"u":null}"#,
            r#"{"t":"doc","o":1,"scope":"user:a","name":"d","seq":1,"u":"!!"}"#,
            r#"{"t":"written","o":1,"sid":"not-a-sid"}"#,
            r#"{"t":"beat"}"#,
        ] {
            assert!(decode(payload).is_err(), "{payload}");
        }
    }

    #[tokio::test]
    async fn an_inbox_drops_its_own_notices_and_relays_the_others() {
        let inbox = Inbox::new(1);
        let mut heard = inbox.subscribe();
        inbox.deliver(&encode(1, &revoked(), 8000));
        inbox.deliver("not json");
        let notice = revoked();
        inbox.deliver(&encode(2, &notice, 8000));
        inbox.gap();
        assert_eq!(heard.recv().await.unwrap(), Heard::Notice(Arc::new(notice)));
        assert_eq!(heard.recv().await.unwrap(), Heard::Gap);
        assert!(heard.try_recv().is_err(), "nothing else was relayed");
    }
}
