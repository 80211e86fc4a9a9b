//! [`DenyCache`]: whether a sealed session was revoked on its own (a deny entry: a tombstone
//! under its sid, see [`continuum_core::SealedSession::deny_record`]), read through from the
//! store with the same bounded staleness as the principals' epochs.
//!
//! # Staleness and cost
//! "Not denied" is trusted for the cache's TTL (1 s by default, the epoch cache's), then read
//! again: one store read per sealed session per TTL per node, where a stored session reads the
//! store on every validation. "Denied" is final (a deny entry is never lifted) and kept until
//! the session's absolute expiry. A revocation made on this node is seen here at once, one made
//! on another node within the TTL.
//!
//! # Bounds
//! At most `capacity` sessions are cached. When full, entries past their TTL (and denied ones
//! past their expiry) are dropped; if none can go, the answer is not cached (those validations
//! read the store until room frees up).

use std::sync::Arc;
use std::time::Duration;

use continuum_core::{Clock, SessionId, SessionRecord, Status, Timestamp};
use dashmap::DashMap;

use crate::store::{SessionStore, StoreError};

#[derive(Clone, Copy, Debug)]
enum Entry {
    /// Not denied when read at this time.
    Allowed { read_at: Timestamp },
    /// Denied until the session's absolute expiry.
    Denied { until: Timestamp },
}

/// Sealed sessions revoked one by one, read through from a [`SessionStore`].
pub struct DenyCache {
    store: Arc<dyn SessionStore>,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    capacity: usize,
    entries: DashMap<SessionId, Entry>,
}

impl std::fmt::Debug for DenyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DenyCache")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .field("cached", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl DenyCache {
    /// A cache over `store`, trusting "not denied" for `ttl`, holding at most `capacity` sessions.
    pub fn new(store: Arc<dyn SessionStore>, clock: Arc<dyn Clock>, ttl: Duration, capacity: usize) -> Self {
        Self { store, clock, ttl, capacity, entries: DashMap::new() }
    }

    /// Whether the session `sid` was denied: from the cache if known, else from the store (a
    /// revoked record under the sid).
    pub async fn is_denied(&self, sid: &SessionId) -> Result<bool, StoreError> {
        let now = self.clock.now();
        match self.entries.get(sid).map(|entry| *entry) {
            Some(Entry::Denied { .. }) => return Ok(true),
            Some(Entry::Allowed { read_at }) if now.saturating_since(read_at) < self.ttl => return Ok(false),
            _ => {}
        }
        let record = self.store.get(sid).await?;
        let entry = match record {
            Some(record) if record.status == Status::Revoked => {
                Entry::Denied { until: record.absolute_expires_at }
            }
            _ => Entry::Allowed { read_at: now },
        };
        self.remember(*sid, entry);
        Ok(matches!(entry, Entry::Denied { .. }))
    }

    /// Writes `deny` (a sealed session's deny entry) to the store and caches it, so this node
    /// refuses the session from now on. Returns `false` if the session was denied already.
    pub async fn deny(&self, deny: SessionRecord) -> Result<bool, StoreError> {
        let (sid, until) = (deny.sid, deny.absolute_expires_at);
        let fresh = match self.store.insert(Arc::new(deny)).await {
            Ok(()) => true,
            // A record under a sealed session's sid can only be its deny entry: sids are 128
            // random bits.
            Err(StoreError::AlreadyExists) => false,
            Err(other) => return Err(other),
        };
        self.remember(sid, Entry::Denied { until });
        Ok(fresh)
    }

    fn remember(&self, sid: SessionId, entry: Entry) {
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&sid) {
            let now = self.clock.now();
            self.entries.retain(|_, entry| match *entry {
                Entry::Allowed { read_at } => now.saturating_since(read_at) < self.ttl,
                Entry::Denied { until } => now < until,
            });
            if self.entries.len() >= self.capacity {
                return;
            }
        }
        self.entries.insert(sid, entry);
    }
}
