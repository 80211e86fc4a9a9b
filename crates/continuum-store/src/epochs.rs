//! [`EpochCache`]: each principal's epoch as last read from the store, so validating a sealed
//! token does not ask the store on every request.
//!
//! # Staleness
//! An entry is used for [`EpochCache::ttl`] (default [`DEFAULT_EPOCH_TTL`], 1 s) after it was
//! read, then read again. So a "sign out everywhere" made on *another* node is seen here within
//! the TTL (sooner once the cross-node event bus calls [`EpochCache::invalidate`]); one made on
//! *this* node through [`EpochCache::bump`] is seen here at once. Epochs only grow, so an entry is
//! never lowered by a read that started before a bump and finished after it.
//!
//! # Bounds
//! At most `capacity` principals are cached. When full, entries past their TTL are dropped; if
//! every entry is fresh, the new one is not cached (that principal's validations read the store
//! until room frees up). Memory stays bounded; only the hit rate suffers under a flood of
//! distinct principals.

use std::sync::Arc;
use std::time::Duration;

use continuum_core::{Clock, Principal, Timestamp};
use dashmap::DashMap;

use crate::store::{SessionStore, StoreError};

/// How long a cached epoch is trusted.
pub const DEFAULT_EPOCH_TTL: Duration = Duration::from_secs(1);
/// How many principals are cached at most.
pub const DEFAULT_EPOCH_CAPACITY: usize = 100_000;

#[derive(Clone, Copy, Debug)]
struct Entry {
    epoch: u64,
    read_at: Timestamp,
}

/// Principals' epochs, read through from a [`SessionStore`] with bounded staleness.
pub struct EpochCache {
    store: Arc<dyn SessionStore>,
    clock: Arc<dyn Clock>,
    ttl: Duration,
    capacity: usize,
    entries: DashMap<Principal, Entry>,
}

impl std::fmt::Debug for EpochCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EpochCache")
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .field("cached", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl EpochCache {
    /// A cache over `store` with time from `clock`, trusting entries for `ttl`, holding at most
    /// `capacity` principals.
    pub fn new(store: Arc<dyn SessionStore>, clock: Arc<dyn Clock>, ttl: Duration, capacity: usize) -> Self {
        Self { store, clock, ttl, capacity, entries: DashMap::new() }
    }

    /// How long an entry is trusted.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// How many principals are cached now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The principal's epoch: the cached one if read less than the TTL ago, else from the store.
    pub async fn epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        let now = self.clock.now();
        if let Some(entry) = self.entries.get(principal)
            && now.saturating_since(entry.read_at) < self.ttl
        {
            return Ok(entry.epoch);
        }
        self.refresh(principal).await
    }

    /// The principal's epoch read from the store now, and cached.
    pub async fn refresh(&self, principal: &Principal) -> Result<u64, StoreError> {
        let read_at = self.clock.now();
        let epoch = self.store.principal_epoch(principal).await?;
        Ok(self.remember(principal, epoch, read_at))
    }

    /// Bumps the principal's epoch in the store ("sign out everywhere") and caches the new value
    /// at once, so this node refuses the old tokens from now on.
    pub async fn bump(&self, principal: &Principal) -> Result<u64, StoreError> {
        let epoch = self.store.bump_principal_epoch(principal).await?;
        Ok(self.remember(principal, epoch, self.clock.now()))
    }

    /// Forgets the principal's cached epoch, so the next validation reads the store: what a
    /// cross-node event ("principal P signed out everywhere") calls.
    pub fn invalidate(&self, principal: &Principal) {
        self.entries.remove(principal);
    }

    /// Caches `epoch` (never below a cached one: epochs only grow) and returns the epoch now
    /// cached, or `epoch` if there was no room.
    fn remember(&self, principal: &Principal, epoch: u64, read_at: Timestamp) -> u64 {
        if let Some(mut entry) = self.entries.get_mut(principal) {
            entry.epoch = entry.epoch.max(epoch);
            entry.read_at = entry.read_at.max(read_at);
            return entry.epoch;
        }
        if self.entries.len() >= self.capacity {
            let now = self.clock.now();
            self.entries.retain(|_, entry| now.saturating_since(entry.read_at) < self.ttl);
            if self.entries.len() >= self.capacity {
                return epoch;
            }
        }
        let entry = *self.entries.entry(principal.clone()).or_insert(Entry { epoch, read_at });
        entry.epoch.max(epoch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;
    use continuum_core::ManualClock;

    fn setup(capacity: usize) -> (Arc<MemoryStore>, ManualClock, EpochCache) {
        let store = Arc::new(MemoryStore::new());
        let clock = ManualClock::new(Timestamp::from_millis(1_000_000));
        let cache = EpochCache::new(
            Arc::clone(&store) as Arc<dyn SessionStore>,
            Arc::new(clock.clone()),
            Duration::from_secs(1),
            capacity,
        );
        (store, clock, cache)
    }

    fn principal(name: &str) -> Principal {
        Principal::parse(name).unwrap()
    }

    #[tokio::test]
    async fn a_bump_elsewhere_is_seen_within_the_ttl_and_a_local_one_at_once() {
        let (store, clock, cache) = setup(10);
        let alice = principal("alice");
        assert_eq!(cache.epoch(&alice).await.unwrap(), 0);
        // Another node bumps through the store: this cache still answers 0 within the TTL.
        store.bump_principal_epoch(&alice).await.unwrap();
        clock.advance(Duration::from_millis(999));
        assert_eq!(cache.epoch(&alice).await.unwrap(), 0, "stale within the TTL");
        clock.advance(Duration::from_millis(1));
        assert_eq!(cache.epoch(&alice).await.unwrap(), 1, "read again once the TTL passed");
        // A bump through the cache is seen at once.
        assert_eq!(cache.bump(&alice).await.unwrap(), 2);
        assert_eq!(cache.epoch(&alice).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn invalidate_forces_a_read() {
        let (store, _, cache) = setup(10);
        let alice = principal("alice");
        assert_eq!(cache.epoch(&alice).await.unwrap(), 0);
        store.bump_principal_epoch(&alice).await.unwrap();
        assert_eq!(cache.epoch(&alice).await.unwrap(), 0);
        cache.invalidate(&alice);
        assert_eq!(cache.epoch(&alice).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn epochs_never_go_down_and_the_cache_stays_bounded() {
        let (_, clock, cache) = setup(2);
        let alice = principal("alice");
        assert_eq!(cache.bump(&alice).await.unwrap(), 1);
        // A read that began before the bump and ends after it cannot lower the entry.
        assert_eq!(cache.remember(&alice, 0, clock.now()), 1);
        cache.epoch(&principal("bob")).await.unwrap();
        cache.epoch(&principal("carol")).await.unwrap();
        assert_eq!(cache.len(), 2, "full of fresh entries: carol is not cached");
        clock.advance(Duration::from_secs(2));
        cache.epoch(&principal("dave")).await.unwrap();
        assert_eq!(cache.len(), 1, "stale entries made room");
    }
}
