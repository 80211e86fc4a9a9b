//! [`SessionCache`]: session records by sid, held in front of the store that keeps them (the
//! origin, for an edge; Redis or PostgreSQL, for an origin node with `--session-cache`), and
//! the rule of when one may answer a validation without asking that store. Pure: time is passed
//! in, nothing is spawned.
//!
//! # Policy
//! "The origin" below is whatever keeps the records; "the stream" is what pushes their changes
//! (the origin's `/v1/events` for an edge, the shared store's bus for an origin node).
//! - An entry is what the origin said of a sid at `fetched_at`: its record, or that it has none.
//! - An entry is *known good* until the later of `fetched_at` and the last moment the origin's
//!   event stream was heard (an event or a heartbeat): any revocation before then would have
//!   arrived. It answers while `now - known_good < cap` and `now - fetched_at < ttl`. With the
//!   stream up (a heartbeat every second) only the TTL bounds it — the bounded staleness of
//!   attributes, which have no events; with the stream down or silently cut, every entry stops
//!   answering at most `cap` after the last thing heard, and the edge asks the origin again.
//! - Ended sessions are final: a revoked record, or a `revoked` / `expired` event, leaves an
//!   *ended* entry that answers "no session" whatever its age, and nothing replaces it — an edge
//!   never makes a revoked session valid again. A reset of the stream drops everything else.
//! - A fetch that was in flight while an event arrived must not put back what the event
//!   removed: take a [`Ticket`] before asking the origin and hand it to
//!   [`SessionCache::insert`], which refuses it if any event was applied since.
//! - At most `capacity` entries: when full, entries past their TTL go first; if none is, the new
//!   one is not kept (memory stays bounded, the hit rate suffers). Ended entries count too. The
//!   sweep for entries past their TTL walks the whole cache, so a full cache sweeps at most once
//!   per [`SWEEP_EVERY`]: with more live sessions than the capacity, every miss would otherwise
//!   walk all of it under the lock.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use continuum_core::{SessionId, SessionRecord, Status};

/// How often a full cache looks for entries past their TTL at most.
pub const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The cache's bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CachePolicy {
    /// The longest a fetched record answers, stream or not: how stale attributes may be.
    pub ttl: Duration,
    /// The longest an entry answers after the event stream was last heard.
    pub cap: Duration,
    /// Entries held at most.
    pub capacity: usize,
}

/// What the cache says of a sid.
#[derive(Clone, Debug, PartialEq)]
pub enum Lookup {
    /// The answer, without asking the origin: the record, or `None` for no (more) session.
    Hit(Option<Arc<SessionRecord>>),
    /// Ask the origin.
    Miss,
}

/// Proof of how many events the cache had applied before a fetch started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket(u64);

#[derive(Clone, Debug)]
enum Held {
    /// What the origin answered: the record, or none.
    Fetched(Option<Arc<SessionRecord>>),
    /// Revoked or expired: final.
    Ended,
}

#[derive(Clone, Debug)]
struct Entry {
    held: Held,
    fetched_at: Instant,
}

/// Session records by sid, with when each was fetched and when the stream was last heard.
#[derive(Debug)]
pub struct SessionCache {
    policy: CachePolicy,
    entries: HashMap<SessionId, Entry>,
    /// When the origin's event stream last carried anything.
    heard_at: Option<Instant>,
    /// Events applied so far.
    events: u64,
    /// When a full cache last swept for entries past their TTL.
    swept_at: Option<Instant>,
}

impl SessionCache {
    /// An empty cache under `policy`, whose stream was never heard.
    pub fn new(policy: CachePolicy) -> Self {
        Self { policy, entries: HashMap::new(), heard_at: None, events: 0, swept_at: None }
    }

    /// How many entries are held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The event stream carried something at `now`.
    pub fn heard(&mut self, now: Instant) {
        self.heard_at = Some(self.heard_at.map_or(now, |heard| heard.max(now)));
    }

    /// How long ago the stream was last heard, `None` if never.
    pub fn silence(&self, now: Instant) -> Option<Duration> {
        self.heard_at.map(|heard| now.saturating_duration_since(heard))
    }

    /// What the cache answers for `sid` at `now`.
    pub fn get(&self, sid: &SessionId, now: Instant) -> Lookup {
        let Some(entry) = self.entries.get(sid) else { return Lookup::Miss };
        match &entry.held {
            Held::Ended => Lookup::Hit(None),
            Held::Fetched(Some(record)) if record.status == Status::Revoked => {
                Lookup::Hit(Some(Arc::clone(record)))
            }
            Held::Fetched(held) => match self.answers(entry, now) {
                true => Lookup::Hit(held.clone()),
                false => Lookup::Miss,
            },
        }
    }

    /// How old the entry of `sid` is at `now` (since it was fetched), if held.
    pub fn age(&self, sid: &SessionId, now: Instant) -> Option<Duration> {
        self.entries.get(sid).map(|entry| now.saturating_duration_since(entry.fetched_at))
    }

    fn answers(&self, entry: &Entry, now: Instant) -> bool {
        let known_good = self.heard_at.map_or(entry.fetched_at, |heard| heard.max(entry.fetched_at));
        now.saturating_duration_since(entry.fetched_at) < self.policy.ttl
            && now.saturating_duration_since(known_good) < self.policy.cap
    }

    /// A ticket for a fetch that starts now.
    pub fn ticket(&self) -> Ticket {
        Ticket(self.events)
    }

    /// Keeps what the origin answered for `sid` (fetched at `now`), unless an event was applied
    /// since `ticket`, the sid already ended here, or the cache is full of live entries.
    /// Returns whether it was kept.
    pub fn insert(
        &mut self,
        ticket: Ticket,
        sid: SessionId,
        record: Option<Arc<SessionRecord>>,
        now: Instant,
    ) -> bool {
        if ticket.0 != self.events {
            return false;
        }
        if let Some(Entry { held: Held::Ended, .. }) = self.entries.get(&sid) {
            return false;
        }
        if self.entries.len() >= self.policy.capacity && !self.entries.contains_key(&sid) {
            if self.swept_at.is_some_and(|swept| now.saturating_duration_since(swept) < SWEEP_EVERY) {
                return false;
            }
            self.swept_at = Some(now);
            let ttl = self.policy.ttl;
            self.entries.retain(|_, entry| now.saturating_duration_since(entry.fetched_at) < ttl);
            if self.entries.len() >= self.policy.capacity {
                return false;
            }
        }
        self.entries.insert(sid, Entry { held: Held::Fetched(record), fetched_at: now });
        true
    }

    /// The session ended (revoked or expired): from now on it answers "no session".
    pub fn ended(&mut self, sid: SessionId, now: Instant) {
        self.events += 1;
        self.entries.insert(sid, Entry { held: Held::Ended, fetched_at: now });
    }

    /// The session changed (rotated): the next validation asks the origin.
    pub fn changed(&mut self, sid: &SessionId) {
        self.events += 1;
        if let Some(Entry { held: Held::Fetched(_), .. }) = self.entries.get(sid) {
            self.entries.remove(sid);
        }
    }

    /// Every session of `principal` was signed out everywhere: its entries ask the origin again.
    /// A scan of the whole cache: sign-outs are rare next to validations.
    pub fn signed_out(&mut self, principal: &str) {
        self.events += 1;
        self.entries.retain(|_, entry| match &entry.held {
            Held::Fetched(Some(record)) => record.principal.as_str() != principal,
            Held::Fetched(None) | Held::Ended => true,
        });
    }

    /// Events may have been missed: everything but the ended sessions (and fetched tombstones,
    /// which are as final) asks the origin again.
    pub fn reset(&mut self) {
        self.events += 1;
        self.entries.retain(|_, entry| match &entry.held {
            Held::Ended => true,
            Held::Fetched(Some(record)) => record.status == Status::Revoked,
            Held::Fetched(None) => false,
        });
    }

    /// A touch the edge made: the cached record's `last_seen_at` moves to `at` (never back), so
    /// the next validations see the session as the origin will.
    pub fn touched(&mut self, sid: &SessionId, at: continuum_core::Timestamp) {
        if let Some(Entry { held: Held::Fetched(Some(record)), .. }) = self.entries.get_mut(sid)
            && record.status == Status::Active
            && record.last_seen_at < at
        {
            let mut next = SessionRecord::clone(record);
            next.last_seen_at = at;
            *record = Arc::new(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use continuum_core::{NewSession, SessionPolicy, Timestamp};

    use super::*;

    const POLICY: CachePolicy =
        CachePolicy { ttl: Duration::from_secs(30), cap: Duration::from_secs(5), capacity: 3 };

    fn record(principal: &str) -> Arc<SessionRecord> {
        let ask = NewSession {
            principal: Some(continuum_core::Principal::parse(principal).unwrap()),
            ..NewSession::default()
        };
        let (record, _) =
            SessionPolicy::default().new_session(ask, Timestamp::from_millis(1_000_000)).unwrap();
        Arc::new(record)
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn an_entry_answers_while_the_stream_is_heard_up_to_the_ttl() {
        let t0 = Instant::now();
        let mut cache = SessionCache::new(POLICY);
        let alice = record("alice");
        assert!(cache.insert(cache.ticket(), alice.sid, Some(alice.clone()), t0));
        for second in 0..30 {
            cache.heard(t0 + secs(second));
            assert_eq!(
                cache.get(&alice.sid, t0 + secs(second)),
                Lookup::Hit(Some(alice.clone())),
                "{second}"
            );
        }
        cache.heard(t0 + secs(30));
        assert_eq!(cache.get(&alice.sid, t0 + secs(30)), Lookup::Miss, "past the TTL");
    }

    #[test]
    fn without_the_stream_an_entry_answers_for_the_cap_after_the_later_of_fetch_and_heard() {
        let t0 = Instant::now();
        let mut cache = SessionCache::new(POLICY);
        let alice = record("alice");
        cache.insert(cache.ticket(), alice.sid, Some(alice.clone()), t0);
        assert!(matches!(cache.get(&alice.sid, t0 + secs(4)), Lookup::Hit(_)), "never heard: from the fetch");
        assert_eq!(cache.get(&alice.sid, t0 + secs(5)), Lookup::Miss);
        cache.heard(t0 + secs(10));
        assert!(matches!(cache.get(&alice.sid, t0 + secs(14)), Lookup::Hit(_)), "heard at 10 s");
        assert_eq!(cache.get(&alice.sid, t0 + secs(15)), Lookup::Miss, "silent since 10 s");
        assert_eq!(cache.silence(t0 + secs(15)), Some(secs(5)));
    }

    #[test]
    fn an_ended_session_stays_ended_and_no_racing_fetch_revives_it() {
        let t0 = Instant::now();
        let mut cache = SessionCache::new(POLICY);
        let alice = record("alice");
        let ticket = cache.ticket();
        cache.ended(alice.sid, t0);
        assert!(!cache.insert(ticket, alice.sid, Some(alice.clone()), t0), "a fetch from before the event");
        assert!(!cache.insert(cache.ticket(), alice.sid, Some(alice.clone()), t0), "not even a new one");
        cache.reset();
        assert_eq!(
            cache.get(&alice.sid, t0 + secs(3600)),
            Lookup::Hit(None),
            "whatever its age, a reset too"
        );

        let mut revoked = SessionRecord::clone(&record("bob"));
        revoked.status = Status::Revoked;
        let revoked = Arc::new(revoked);
        cache.insert(cache.ticket(), revoked.sid, Some(revoked.clone()), t0);
        cache.reset();
        assert_eq!(
            cache.get(&revoked.sid, t0 + secs(3600)),
            Lookup::Hit(Some(revoked)),
            "a fetched tombstone, a reset too"
        );
    }

    #[test]
    fn rotation_sign_out_and_reset_send_live_entries_back_to_the_origin() {
        let t0 = Instant::now();
        let mut cache = SessionCache::new(CachePolicy { capacity: 10, ..POLICY });
        let (alice, alice2, bob) = (record("alice"), record("alice"), record("bob"));
        for session in [&alice, &alice2, &bob] {
            cache.insert(cache.ticket(), session.sid, Some(session.clone()), t0);
        }
        let ticket = cache.ticket();
        cache.changed(&alice.sid);
        assert_eq!(cache.get(&alice.sid, t0), Lookup::Miss);
        assert!(
            !cache.insert(ticket, alice.sid, Some(alice.clone()), t0),
            "a fetch from before the rotation"
        );
        cache.signed_out("alice");
        assert_eq!(cache.get(&alice2.sid, t0), Lookup::Miss);
        assert!(matches!(cache.get(&bob.sid, t0), Lookup::Hit(Some(_))), "another principal stays");
        cache.reset();
        assert!(cache.is_empty());
    }

    #[test]
    fn a_full_cache_drops_entries_past_their_ttl_then_refuses() {
        let t0 = Instant::now();
        let mut cache = SessionCache::new(POLICY);
        let sessions: Vec<_> = (0..4).map(|_| record("carol")).collect();
        for session in &sessions[..3] {
            assert!(cache.insert(cache.ticket(), session.sid, Some(session.clone()), t0));
        }
        assert!(!cache.insert(cache.ticket(), sessions[3].sid, None, t0 + secs(1)), "all live");
        assert!(
            cache.insert(cache.ticket(), sessions[3].sid, None, t0 + secs(31)),
            "the others past the TTL"
        );
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_full_cache_sweeps_at_most_once_a_second() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut cache = SessionCache::new(POLICY);
        let sessions: Vec<_> = (0..4).map(|_| record("dave")).collect();
        cache.insert(cache.ticket(), sessions[0].sid, Some(sessions[0].clone()), t0);
        for session in &sessions[1..3] {
            cache.insert(cache.ticket(), session.sid, Some(session.clone()), t0 + secs(10));
        }
        let new = sessions[3].sid;
        assert!(!cache.insert(cache.ticket(), new, None, t0 + ms(29_800)), "swept: all live");
        assert!(
            !cache.insert(cache.ticket(), new, None, t0 + ms(30_200)),
            "the first entry is past its TTL now, but the last sweep was 0.4 s ago"
        );
        assert_eq!(cache.age(&sessions[0].sid, t0 + ms(30_200)), Some(ms(30_200)), "not swept");
        assert!(cache.insert(cache.ticket(), new, None, t0 + ms(30_800)), "a second later: swept");
        assert_eq!(cache.age(&sessions[0].sid, t0 + ms(30_800)), None);
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn a_touch_moves_the_cached_last_seen_forward_only() {
        let t0 = Instant::now();
        let mut cache = SessionCache::new(POLICY);
        let alice = record("alice");
        cache.insert(cache.ticket(), alice.sid, Some(alice.clone()), t0);
        let later = Timestamp::from_millis(alice.last_seen_at.as_millis() + 60_000);
        cache.touched(&alice.sid, later);
        cache.touched(&alice.sid, alice.last_seen_at);
        let Lookup::Hit(Some(seen)) = cache.get(&alice.sid, t0) else { panic!("held") };
        assert_eq!(seen.last_seen_at, later);
        assert_eq!(seen.version, alice.version, "a touch is not a new version");
    }
}
