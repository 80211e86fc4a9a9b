//! [`SessionCache`]: remote mode's in-process cache of validated tokens, and its policy. Pure:
//! time is passed in, nothing is spawned.
//!
//! # Policy
//! - An entry answers for at most `ttl` after the validation that filled it (default
//!   [`DEFAULT_CACHE_TTL`]); `ttl = 0` turns the cache off.
//! - Entries are keyed by SHA-256 of the whole token, so a rotated secret (same sid, new token)
//!   misses, and the secret itself is never kept.
//! - [`SessionCache::evict`] drops every entry of a sid (a `revoked`, `expired` or `rotated`
//!   event); [`SessionCache::evict_principal`] every entry of a principal (a
//!   `signed_out_everywhere` event, which also ends sealed tokens: they have no per-sid events);
//!   [`SessionCache::clear`] drops all (a `reset`, or the event stream lost).
//! - A validation that was in flight while an eviction happened must not put back what the
//!   eviction removed: take a [`CacheTicket`] before asking the server and hand it to
//!   [`SessionCache::insert`], which refuses it if anything was evicted since.
//! - At most `capacity` entries: when full, stale entries go first; if all are fresh, the new one
//!   is not cached (memory stays bounded, the hit rate suffers).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

use crate::data::SessionData;

/// How long a cached validation answers by default: the bound on how stale a session seen by
/// the app may be when the event stream is up but an event was lost.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(5);
/// How many tokens are cached at most by default.
pub const DEFAULT_CACHE_CAPACITY: usize = 100_000;

/// SHA-256 of a token: the cache's key.
pub type TokenDigest = [u8; 32];

/// The digest of `token`.
pub fn digest(token: &str) -> TokenDigest {
    Sha256::digest(token.as_bytes()).into()
}

/// Proof of the cache's eviction count before a validation started; see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheTicket(u64);

#[derive(Debug)]
struct Entry {
    session: SessionData,
    filled_at: Instant,
}

/// Validated tokens, by digest, with an index by sid for eviction.
#[derive(Debug)]
pub struct SessionCache {
    ttl: Duration,
    capacity: usize,
    entries: HashMap<TokenDigest, Entry>,
    by_sid: HashMap<String, Vec<TokenDigest>>,
    evictions: u64,
}

impl SessionCache {
    /// An empty cache whose entries answer for `ttl`, holding at most `capacity`.
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self { ttl, capacity, entries: HashMap::new(), by_sid: HashMap::new(), evictions: 0 }
    }

    /// Whether the cache is off (`ttl = 0`).
    pub fn is_off(&self) -> bool {
        self.ttl.is_zero() || self.capacity == 0
    }

    /// How many entries are held (fresh or not).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The session cached for this token, if filled less than `ttl` before `now`.
    pub fn get(&self, token: &TokenDigest, now: Instant) -> Option<&SessionData> {
        let entry = self.entries.get(token)?;
        (now.saturating_duration_since(entry.filled_at) < self.ttl).then_some(&entry.session)
    }

    /// A ticket to insert after a validation that starts now.
    pub fn ticket(&self) -> CacheTicket {
        CacheTicket(self.evictions)
    }

    /// Caches `session` for `token`, unless the cache is off, something was evicted since
    /// `ticket` was taken, or the cache is full of fresh entries. Returns whether it was cached.
    pub fn insert(
        &mut self,
        ticket: CacheTicket,
        token: TokenDigest,
        session: SessionData,
        now: Instant,
    ) -> bool {
        if self.is_off() || ticket.0 != self.evictions {
            return false;
        }
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&token) {
            self.drop_stale(now);
            if self.entries.len() >= self.capacity {
                return false;
            }
        }
        let sid = session.sid.clone();
        if self.entries.insert(token, Entry { session, filled_at: now }).is_none() {
            self.by_sid.entry(sid).or_default().push(token);
        }
        true
    }

    /// Drops every entry of `sid`.
    pub fn evict(&mut self, sid: &str) {
        self.evictions += 1;
        for token in self.by_sid.remove(sid).unwrap_or_default() {
            self.entries.remove(&token);
        }
    }

    /// Drops every entry of `principal`. A scan of the whole cache: sign-outs everywhere are
    /// rare next to validations, which an index by principal would slow down.
    pub fn evict_principal(&mut self, principal: &str) {
        self.evictions += 1;
        self.entries.retain(|_, entry| entry.session.principal != principal);
        self.reindex();
    }

    /// Drops everything.
    pub fn clear(&mut self) {
        self.evictions += 1;
        self.entries.clear();
        self.by_sid.clear();
    }

    fn drop_stale(&mut self, now: Instant) {
        let ttl = self.ttl;
        self.entries.retain(|_, entry| now.saturating_duration_since(entry.filled_at) < ttl);
        self.reindex();
    }

    /// Drops the sid index's tokens that are no longer entries.
    fn reindex(&mut self) {
        let entries = &self.entries;
        self.by_sid.retain(|_, tokens| {
            tokens.retain(|token| entries.contains_key(token));
            !tokens.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(sid: &str) -> SessionData {
        session_of(sid, "alice")
    }

    fn session_of(sid: &str, principal: &str) -> SessionData {
        serde_json::from_value(serde_json::json!({"sid": sid, "principal": principal})).unwrap()
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn entries_answer_for_the_ttl_only() {
        let t0 = Instant::now();
        let mut cache = SessionCache::new(secs(5), 10);
        assert!(cache.insert(cache.ticket(), digest("a.x"), session("a"), t0));
        assert_eq!(cache.get(&digest("a.x"), t0 + secs(4)).unwrap().sid, "a");
        assert!(cache.get(&digest("a.x"), t0 + secs(5)).is_none());
        assert!(cache.get(&digest("a.y"), t0).is_none(), "another secret of the same sid misses");
    }

    #[test]
    fn ttl_zero_caches_nothing() {
        let mut cache = SessionCache::new(Duration::ZERO, 10);
        assert!(cache.is_off());
        assert!(!cache.insert(cache.ticket(), digest("a.x"), session("a"), Instant::now()));
        assert!(cache.is_empty());
    }

    #[test]
    fn eviction_drops_every_token_of_the_sid_and_nothing_else() {
        let t0 = Instant::now();
        let mut cache = SessionCache::new(secs(60), 10);
        for (token, sid) in [("a.1", "a"), ("a.2", "a"), ("b.1", "b")] {
            assert!(cache.insert(cache.ticket(), digest(token), session(sid), t0));
        }
        cache.evict("a");
        assert!(cache.get(&digest("a.1"), t0).is_none());
        assert!(cache.get(&digest("a.2"), t0).is_none());
        assert!(cache.get(&digest("b.1"), t0).is_some());
        cache.clear();
        assert!(cache.is_empty());
    }

    #[test]
    fn a_principal_eviction_drops_its_entries_and_their_index_only() {
        let t0 = Instant::now();
        let mut cache = SessionCache::new(secs(60), 10);
        for (token, sid, principal) in [("a.1", "a", "alice"), ("cs~x", "s", "alice"), ("b.1", "b", "bob")] {
            assert!(cache.insert(cache.ticket(), digest(token), session_of(sid, principal), t0));
        }
        let ticket = cache.ticket();
        cache.evict_principal("alice");
        assert!(cache.get(&digest("a.1"), t0).is_none());
        assert!(cache.get(&digest("cs~x"), t0).is_none());
        assert_eq!(cache.get(&digest("b.1"), t0).unwrap().principal, "bob");
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.by_sid.keys().collect::<Vec<_>>(), ["b"], "no index entry outlives its tokens");
        assert!(!cache.insert(ticket, digest("a.1"), session("a"), t0), "a racing validation stays out");
    }

    #[test]
    fn a_validation_racing_an_eviction_is_not_cached() {
        let mut cache = SessionCache::new(secs(60), 10);
        let ticket = cache.ticket();
        cache.evict("a");
        assert!(!cache.insert(ticket, digest("a.1"), session("a"), Instant::now()));
        assert!(cache.insert(cache.ticket(), digest("a.1"), session("a"), Instant::now()));
    }

    #[test]
    fn a_full_cache_drops_stale_entries_then_refuses() {
        let t0 = Instant::now();
        let mut cache = SessionCache::new(secs(5), 2);
        assert!(cache.insert(cache.ticket(), digest("a.1"), session("a"), t0));
        assert!(cache.insert(cache.ticket(), digest("b.1"), session("b"), t0 + secs(3)));
        assert!(!cache.insert(cache.ticket(), digest("c.1"), session("c"), t0 + secs(4)), "all fresh");
        assert!(cache.insert(cache.ticket(), digest("c.1"), session("c"), t0 + secs(6)), "a.1 was stale");
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&digest("b.1"), t0 + secs(6)).is_some());
    }
}
