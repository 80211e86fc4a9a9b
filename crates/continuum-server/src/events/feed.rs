//! [`EventFeed`]: the session events this node knows of — its own and those the other nodes
//! announced — numbered, kept for a bounded window so a reconnecting reader can resume, and
//! broadcast to the readers of `GET /v1/events`.
//!
//! Event ids are `<incarnation>-<n>`: a random tag of this process, then a counter. A reader
//! that comes back with a `Last-Event-ID` of this incarnation within the window gets exactly
//! what followed it; any other id (another node, a restart, too old) cannot be resumed, and the
//! reader is told so with a `reset` item before the live events.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use continuum_core::{Principal, Timestamp};
use continuum_store::SessionEvent;
use tokio::sync::broadcast;

/// How many past items a reader can resume from.
pub const WINDOW: usize = 1024;

/// What a reader receives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedItem {
    /// A session event, with its id.
    Event {
        /// `<incarnation>-<n>`.
        id: String,
        /// What happened.
        event: SessionEvent,
    },
    /// A principal was signed out everywhere: every session of it is over, sealed tokens
    /// included, which have no per-session event.
    SignedOutEverywhere {
        /// `<incarnation>-<n>`.
        id: String,
        /// Whose sessions ended.
        principal: Principal,
        /// When, by the clock of the node that saw it.
        at: Timestamp,
    },
    /// Keys the store cannot serve any more: every node holding them left (a replicated
    /// store lost more than `k` owners at once), or the report of it changed.
    DataLost {
        /// `<incarnation>-<n>`.
        id: String,
        /// What no live node holds (all zero when it is available again).
        loss: continuum_store::DataLoss,
        /// When this node saw it.
        at: Timestamp,
    },
    /// Updates an edge queued for a session were refused at replay: the session had ended
    /// before they reached the origin.
    RefusedUpdates {
        /// `<incarnation>-<n>`.
        id: String,
        /// The session.
        sid: continuum_core::SessionId,
        /// Its principal, if the session is still known.
        principal: Option<Principal>,
        /// How many updates were refused.
        count: u64,
        /// When, by this node's clock.
        at: Timestamp,
    },
    /// Events may be missing from here on (a resume that cannot be honoured, a reader or the
    /// bus fell behind): drop whatever was derived from them, such as cached sessions.
    Reset {
        /// Why, for people.
        reason: &'static str,
    },
}

/// Where a resuming reader starts.
#[derive(Debug, PartialEq, Eq)]
pub enum Resume {
    /// The items after the reader's last id, oldest first (possibly none).
    Replay(Vec<FeedItem>),
    /// The id cannot be resumed from.
    Reset,
}

struct Ring {
    next: u64,
    /// The last [`WINDOW`] items with their numbers, oldest first.
    items: VecDeque<(u64, FeedItem)>,
}

/// The numbered, bounded, broadcast feed of session events. Cheap to clone.
#[derive(Clone)]
pub struct EventFeed {
    incarnation: Arc<str>,
    ring: Arc<Mutex<Ring>>,
    live: broadcast::Sender<FeedItem>,
}

impl Default for EventFeed {
    fn default() -> Self {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).expect("the operating system's random source works");
        let incarnation: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        Self::with_incarnation(&incarnation)
    }
}

impl EventFeed {
    /// A feed whose ids start with `incarnation`.
    pub fn with_incarnation(incarnation: &str) -> Self {
        Self {
            incarnation: incarnation.into(),
            ring: Arc::new(Mutex::new(Ring { next: 1, items: VecDeque::with_capacity(WINDOW) })),
            live: broadcast::channel(WINDOW).0,
        }
    }

    fn ring(&self) -> MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Numbers `event`, keeps it in the window and sends it to every reader.
    pub fn push(&self, event: SessionEvent) {
        self.keep_numbered(|id| FeedItem::Event { id, event });
    }

    /// Numbers a sign-out everywhere of `principal`, keeps it and sends it to every reader.
    pub fn push_sign_out(&self, principal: Principal, at: Timestamp) {
        self.keep_numbered(|id| FeedItem::SignedOutEverywhere { id, principal, at });
    }

    /// Numbers a change of what the store cannot serve, keeps it and sends it to every reader.
    pub fn push_data_loss(&self, loss: continuum_store::DataLoss, at: Timestamp) {
        self.keep_numbered(|id| FeedItem::DataLost { id, loss, at });
    }

    /// Numbers a report of `count` updates of `sid` refused at replay, keeps it and sends it.
    pub fn push_refused(
        &self,
        sid: continuum_core::SessionId,
        principal: Option<Principal>,
        count: u64,
        at: Timestamp,
    ) {
        self.keep_numbered(|id| FeedItem::RefusedUpdates { id, sid, principal, count, at });
    }

    /// Keeps the item `make` builds around its id, `<incarnation>-<n>` for the next number.
    fn keep_numbered(&self, make: impl FnOnce(String) -> FeedItem) {
        let mut ring = self.ring();
        let item = make(format!("{}-{}", self.incarnation, ring.next));
        self.keep(&mut ring, item);
    }

    /// Tells every reader that events may be missing.
    pub fn reset(&self, reason: &'static str) {
        let mut ring = self.ring();
        self.keep(&mut ring, FeedItem::Reset { reason });
    }

    fn keep(&self, ring: &mut Ring, item: FeedItem) {
        let n = ring.next;
        ring.next += 1;
        if ring.items.len() == WINDOW {
            ring.items.pop_front();
        }
        ring.items.push_back((n, item.clone()));
        // Sent under the lock, so a new reader's replay and its live items neither overlap nor
        // leave a hole (see `subscribe`). No reader is not an error.
        let _ = self.live.send(item);
    }

    /// A new reader: where it resumes from `last_id` (the `Last-Event-ID` it sent, if any) and
    /// the live items after that.
    pub fn subscribe(&self, last_id: Option<&str>) -> (Resume, broadcast::Receiver<FeedItem>) {
        let ring = self.ring();
        let resume = match last_id {
            None => Resume::Replay(Vec::new()),
            Some(id) => self.resume(&ring, id),
        };
        (resume, self.live.subscribe())
    }

    /// The decision, under the lock: replay what followed `id` if this incarnation still holds
    /// it, else reset.
    fn resume(&self, ring: &Ring, id: &str) -> Resume {
        let Some(n) = id.strip_prefix(&*self.incarnation).and_then(|rest| rest.strip_prefix('-')) else {
            return Resume::Reset;
        };
        let Ok(n) = n.parse::<u64>() else { return Resume::Reset };
        let oldest = ring.items.front().map_or(ring.next, |(first, _)| *first);
        // The reader saw `n`; it can resume if everything after `n` is still held.
        if n >= ring.next || n + 1 < oldest {
            return Resume::Reset;
        }
        Resume::Replay(ring.items.iter().filter(|(m, _)| *m > n).map(|(_, item)| item.clone()).collect())
    }
}

#[cfg(test)]
mod tests {
    use continuum_core::{Principal, SessionId, Timestamp};
    use continuum_store::SessionEventKind;

    use super::*;

    fn event(n: i64) -> SessionEvent {
        SessionEvent {
            kind: SessionEventKind::Created,
            sid: SessionId::generate(),
            principal: Principal::parse("alice").unwrap(),
            at: Timestamp::from_millis(n),
        }
    }

    fn ids(resume: &Resume) -> Vec<String> {
        let Resume::Replay(items) = resume else { panic!("expected a replay, got {resume:?}") };
        items
            .iter()
            .map(|item| match item {
                FeedItem::Event { id, .. }
                | FeedItem::SignedOutEverywhere { id, .. }
                | FeedItem::DataLost { id, .. } => id.clone(),
                FeedItem::RefusedUpdates { id, .. } => id.clone(),
                FeedItem::Reset { .. } => "reset".into(),
            })
            .collect()
    }

    #[test]
    fn a_reader_resumes_exactly_after_its_last_id() {
        let feed = EventFeed::with_incarnation("ab");
        for n in 0..5 {
            feed.push(event(n));
        }
        assert_eq!(ids(&feed.subscribe(None).0), Vec::<String>::new(), "a new reader starts live");
        assert_eq!(ids(&feed.subscribe(Some("ab-3")).0), ["ab-4", "ab-5"]);
        assert_eq!(ids(&feed.subscribe(Some("ab-5")).0), Vec::<String>::new(), "up to date");
        assert_eq!(ids(&feed.subscribe(Some("ab-0")).0).len(), 5, "everything after the start");
    }

    #[test]
    fn ids_of_another_incarnation_the_future_or_past_the_window_reset() {
        let feed = EventFeed::with_incarnation("ab");
        for n in 0..(WINDOW as i64 + 10) {
            feed.push(event(n));
        }
        for id in ["cd-5", "ab-99999", "ab-3", "ab-", "ab-x", "ab", "", "abc-12"] {
            assert_eq!(feed.subscribe(Some(id)).0, Resume::Reset, "{id:?}");
        }
        // The oldest held item is number 11: a reader that saw 10 misses nothing.
        assert_eq!(ids(&feed.subscribe(Some("ab-10")).0).len(), WINDOW);
    }

    #[tokio::test]
    async fn live_items_follow_the_replay_without_overlap() {
        let feed = EventFeed::with_incarnation("ab");
        feed.push(event(1));
        let (resume, mut live) = feed.subscribe(Some("ab-0"));
        assert_eq!(ids(&resume), ["ab-1"]);
        feed.reset("the bus broke");
        feed.push(event(2));
        feed.push_sign_out(Principal::parse("bob").unwrap(), Timestamp::from_millis(3));
        assert_eq!(live.recv().await.unwrap(), FeedItem::Reset { reason: "the bus broke" });
        let FeedItem::Event { id, .. } = live.recv().await.unwrap() else { panic!("an event") };
        assert_eq!(id, "ab-3", "resets take a number too, so ids stay increasing");
        let FeedItem::SignedOutEverywhere { id, principal, .. } = live.recv().await.unwrap() else {
            panic!("a sign-out")
        };
        assert_eq!((id.as_str(), principal.as_str()), ("ab-4", "bob"));
        assert_eq!(ids(&feed.subscribe(Some("ab-3")).0), ["ab-4"], "sign-outs are resumed like events");
        assert!(live.try_recv().is_err());
    }
}
