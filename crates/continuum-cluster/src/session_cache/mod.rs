//! An origin node's session cache in front of a shared store (`serve --session-cache`, Redis
//! or PostgreSQL): validations answered from memory, every change made through any node pushed
//! over the store's bus to every node's cache at once.
//!
//! # Layout
//! - [`metrics`]: [`SessionCacheMetrics`], under `continuum_session_cache_*` on `/metrics`.
//! - [`hear`]: what a notice from another node does to the cache ([`hear::apply`], pure), the
//!   task applying them and the heartbeat this node publishes.
//! - [`store`]: [`CachedSessions`], the [`continuum_store::SessionStore`] decorator: reads from
//!   the cache or the store, writes to the store then dropped from the cache here and announced
//!   to the other nodes.
//!
//! # What it promises
//! The policy is [`continuum_store::session_cache`]'s, the edge's: an entry answers while it is
//! younger than the TTL and the bus was heard less than the cap ago (every node with the cache
//! on publishes a heartbeat each second); a revocation, expiry or write heard from another node
//! drops it at once, and a revoked session never answers as live again. A write through this
//! node drops the entry before the write is acknowledged, so this node reads its own writes; a
//! read through *another* node right after may see the previous record for the notice's
//! transit time (the Redis or PostgreSQL publish, well under a millisecond on one machine), and
//! for up to the TTL if a notice is lost without the bus reporting a gap. Touches made through
//! other nodes are not announced: idle expiry judged here may be early by at most the TTL.

pub mod hear;
pub mod metrics;
pub mod store;

use std::sync::{Arc, Mutex};

use continuum_store::session_cache::{CachePolicy, SessionCache};
use continuum_store::{Bus, SessionStore};
use tokio_util::sync::CancellationToken;

pub use metrics::SessionCacheMetrics;
pub use store::CachedSessions;

/// The cache shared by the store and the task applying notices.
pub(crate) type SharedCache = Arc<Mutex<SessionCache>>;

/// Locks `cache`; a poisoned lock is taken as it is (every change leaves the cache consistent).
pub(crate) fn lock(cache: &SharedCache) -> std::sync::MutexGuard<'_, SessionCache> {
    cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `inner` behind a cache under `policy`, kept honest by `bus`: spawns the task applying what
/// the other nodes announce and the heartbeat, both stopped by [`SessionStore::close`]. Call
/// inside a Tokio runtime.
pub fn start(
    inner: Arc<dyn SessionStore>,
    bus: Arc<dyn Bus>,
    policy: CachePolicy,
    metrics: Arc<SessionCacheMetrics>,
) -> Arc<CachedSessions> {
    let cache: SharedCache = Arc::new(Mutex::new(SessionCache::new(policy)));
    let stop = CancellationToken::new();
    tokio::spawn(hear::listen(Arc::clone(&cache), bus.subscribe(), Arc::clone(&metrics), stop.clone()));
    tokio::spawn(hear::beat(Arc::clone(&bus), stop.clone()));
    Arc::new(CachedSessions::new(inner, bus, cache, metrics, stop))
}
