//! [`CachedSessions`]: a shared store's [`SessionStore`] with this node's cache in front.
//! Reads come from the cache while it may answer ([`continuum_store::session_cache`]), else
//! from the store; every write goes to the store, then drops the entry here (so this node
//! reads its own writes) and is announced to the other nodes ([`Notice::SessionWritten`])
//! before it is acknowledged.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use continuum_core::{Principal, SessionId, SessionRecord, Status, Timestamp};
use continuum_store::session_cache::Lookup;
use continuum_store::{Bus, DataLoss, Notice, PurgedSession, SessionStore, StoreError};
use tokio_util::sync::CancellationToken;

use super::{SessionCacheMetrics, SharedCache, lock};

/// The decorator. Built by [`super::start`].
pub struct CachedSessions {
    inner: Arc<dyn SessionStore>,
    bus: Arc<dyn Bus>,
    cache: SharedCache,
    metrics: Arc<SessionCacheMetrics>,
    stop: CancellationToken,
}

impl std::fmt::Debug for CachedSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedSessions").field("entries", &lock(&self.cache).len()).finish_non_exhaustive()
    }
}

impl CachedSessions {
    pub(super) fn new(
        inner: Arc<dyn SessionStore>,
        bus: Arc<dyn Bus>,
        cache: SharedCache,
        metrics: Arc<SessionCacheMetrics>,
        stop: CancellationToken,
    ) -> Self {
        Self { inner, bus, cache, metrics, stop }
    }

    /// After a write of `record` reached the store: the entry here is dropped and the other
    /// nodes are told. A tombstone is kept instead: nothing comes after it, so it is final in
    /// the cache and a later write racing this one cannot leave an older record behind. A
    /// notice the bus does not take is counted and logged, not an error: the write itself is
    /// done, and their entries age out.
    async fn written(&self, record: &Arc<SessionRecord>) {
        {
            let mut cache = lock(&self.cache);
            cache.changed(&record.sid);
            if record.status == Status::Revoked {
                let ticket = cache.ticket();
                cache.insert(ticket, record.sid, Some(Arc::clone(record)), Instant::now());
            }
        }
        self.announce(record.sid).await;
    }

    async fn announce(&self, sid: SessionId) {
        if let Err(error) = self.bus.publish(&Notice::SessionWritten { sid }).await {
            self.metrics.unannounced.inc();
            tracing::warn!(%sid, error = &error as &dyn std::error::Error, "a session write was not announced to the other nodes' caches");
        }
    }

    /// What a purge deleted, ended here (the other nodes hear the `expired` events).
    fn purged(&self, purged: &[PurgedSession]) {
        let mut cache = lock(&self.cache);
        let now = Instant::now();
        for session in purged {
            cache.ended(session.sid, now);
        }
    }
}

#[async_trait]
impl SessionStore for CachedSessions {
    async fn insert(&self, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        self.inner.insert(Arc::clone(&record)).await?;
        self.written(&record).await;
        Ok(())
    }

    /// From the cache when it may answer, else from the store (and kept, unless something was
    /// heard about the session meanwhile).
    async fn get(&self, sid: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        let ticket = {
            let cache = lock(&self.cache);
            if let Lookup::Hit(answer) = cache.get(sid, Instant::now()) {
                self.metrics.hits.inc();
                return Ok(answer);
            }
            cache.ticket()
        };
        self.metrics.misses.inc();
        let fetched = self.inner.get(sid).await?;
        let mut cache = lock(&self.cache);
        cache.insert(ticket, *sid, fetched.clone(), Instant::now());
        self.metrics.entries.set(cache.len() as i64);
        Ok(fetched)
    }

    /// A conflict drops the entry too: the cache held an older version (another node's write
    /// not heard yet), and the caller's next read must see the store's.
    async fn replace(&self, expected_version: u64, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        match self.inner.replace(expected_version, Arc::clone(&record)).await {
            Ok(()) => {
                self.written(&record).await;
                Ok(())
            }
            Err(error) => {
                if matches!(error, StoreError::VersionConflict { .. }) {
                    lock(&self.cache).changed(&record.sid);
                }
                Err(error)
            }
        }
    }

    /// Not announced (touches are the hot path's lazy writes); the entry here moves forward.
    async fn touch(&self, sid: &SessionId, at: Timestamp) -> Result<(), StoreError> {
        self.inner.touch(sid, at).await?;
        lock(&self.cache).touched(sid, at);
        Ok(())
    }

    async fn list_by_principal(&self, principal: &Principal) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        self.inner.list_by_principal(principal).await
    }

    async fn purge_expired(&self, now: Timestamp, limit: usize) -> Result<Vec<PurgedSession>, StoreError> {
        let purged = self.inner.purge_expired(now, limit).await?;
        self.purged(&purged);
        Ok(purged)
    }

    async fn purge_sessions(
        &self,
        sids: &[SessionId],
        now: Timestamp,
    ) -> Result<Vec<PurgedSession>, StoreError> {
        let purged = self.inner.purge_sessions(sids, now).await?;
        self.purged(&purged);
        Ok(purged)
    }

    async fn principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        self.inner.principal_epoch(principal).await
    }

    async fn bump_principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        self.inner.bump_principal_epoch(principal).await
    }

    async fn raise_principal_epoch(&self, principal: &Principal, at_least: u64) -> Result<u64, StoreError> {
        self.inner.raise_principal_epoch(principal, at_least).await
    }

    async fn scan(
        &self,
        after: Option<SessionId>,
        limit: usize,
    ) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        self.inner.scan(after, limit).await
    }

    async fn scan_epochs(
        &self,
        after: Option<&Principal>,
        limit: usize,
    ) -> Result<Vec<(Principal, u64)>, StoreError> {
        self.inner.scan_epochs(after, limit).await
    }

    fn data_loss(&self) -> Option<tokio::sync::watch::Receiver<DataLoss>> {
        self.inner.data_loss()
    }

    async fn count(&self) -> Result<u64, StoreError> {
        self.inner.count().await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    /// Stops the cache's tasks, then closes the store.
    async fn close(&self) -> Result<(), StoreError> {
        self.stop.cancel();
        self.inner.close().await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use continuum_core::{ManualClock, NewSession, SystemClock};
    use continuum_store::session_cache::CachePolicy;
    use continuum_store::{MemoryStore, Sessions, testkit};
    use serde_json::json;

    use super::*;
    use crate::memory_bus::MemoryBus;
    use crate::session_cache::start;

    const POLICY: CachePolicy =
        CachePolicy { ttl: Duration::from_secs(30), cap: Duration::from_secs(5), capacity: 10_000 };

    fn cached(
        inner: Arc<dyn SessionStore>,
        bus: &Arc<MemoryBus>,
    ) -> (Arc<CachedSessions>, Arc<SessionCacheMetrics>) {
        let metrics = Arc::new(SessionCacheMetrics::default());
        (start(inner, Arc::clone(bus) as Arc<dyn Bus>, POLICY, Arc::clone(&metrics)), metrics)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance_over_the_cache() {
        testkit::run_all(|clock: ManualClock| async move {
            let (store, _) = cached(Arc::new(MemoryStore::new()), &Arc::new(MemoryBus::new()));
            Sessions::new(store, Arc::new(clock))
        })
        .await;
    }

    type Node = (Sessions, Arc<SessionCacheMetrics>);

    /// Two nodes over one store and one bus, as over Redis: both share the store returned, and
    /// each has its own end of the bus (returned too, to inject a gap).
    fn two_nodes() -> (Arc<MemoryStore>, [Node; 2], [Arc<MemoryBus>; 2]) {
        let shared = Arc::new(MemoryStore::new());
        let a_bus = Arc::new(MemoryBus::new());
        let b_bus = Arc::new(a_bus.join());
        let (a, a_metrics) = cached(Arc::clone(&shared) as Arc<dyn SessionStore>, &a_bus);
        let (b, b_metrics) = cached(Arc::clone(&shared) as Arc<dyn SessionStore>, &b_bus);
        let clock = Arc::new(SystemClock);
        let nodes = [(Sessions::new(a, clock.clone()), a_metrics), (Sessions::new(b, clock), b_metrics)];
        (shared, nodes, [a_bus, b_bus])
    }

    /// Waits (bounded) until `check` holds: notices travel on a task of their own.
    async fn soon(mut check: impl AsyncFnMut() -> bool) {
        for _ in 0..200 {
            if check().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("did not happen within a second");
    }

    #[tokio::test]
    async fn a_validation_through_a_node_is_answered_from_its_cache() {
        let (_, [(a, a_metrics), (b, _)], _) = two_nodes();
        let (record, token) = a.create(NewSession::default()).await.unwrap();
        b.validate(&token).await.unwrap();
        let misses = a_metrics.misses.get();
        for _ in 0..10 {
            assert_eq!(a.validate(&token).await.unwrap().sid, record.sid);
        }
        assert_eq!(a_metrics.misses.get(), misses.max(1), "at most the first read after the create missed");
        assert!(a_metrics.hits.get() >= 9);
    }

    #[tokio::test]
    async fn a_revocation_or_a_patch_through_one_node_reaches_the_others_cache() {
        let (_, [(a, _), (b, b_metrics)], _) = two_nodes();
        let (record, token) = a.create(NewSession::default()).await.unwrap();
        b.validate(&token).await.unwrap();
        b.validate(&token).await.unwrap();
        assert!(b_metrics.hits.get() >= 1, "b holds it");
        a.patch_attributes(&record.sid, &json!({"step": 2}), None).await.unwrap();
        soon(async || b.get(&record.sid).await.unwrap().attributes.get("step") == Some(&json!(2))).await;
        a.revoke(&record.sid).await.unwrap();
        soon(async || b.validate(&token).await.is_err()).await;
        assert!(b_metrics.invalidations.get() >= 2);
    }

    #[tokio::test]
    async fn a_write_through_this_node_is_read_back_at_once_and_a_stale_entry_does_not_block_a_write() {
        let (shared, [(a, _), _], _) = two_nodes();
        let (record, token) = a.create(NewSession::default()).await.unwrap();
        a.validate(&token).await.unwrap();
        let patched = a.patch_attributes(&record.sid, &json!({"n": 1}), None).await.unwrap();
        assert_eq!(a.get(&record.sid).await.unwrap().version, patched.version, "no wait for any notice");
        // A write the cache never heard of (a node without the cache, a lost notice).
        let mut behind = SessionRecord::clone(&patched);
        behind.version += 1;
        shared.replace(patched.version, Arc::new(behind)).await.unwrap();
        let after =
            a.patch_attributes(&record.sid, &json!({"n": 2}), None).await.expect("the conflict refetched");
        assert_eq!(after.version, patched.version + 2);
    }

    #[tokio::test]
    async fn a_gap_empties_the_cache_of_all_but_ended_sessions() {
        let (_, [(a, a_metrics), _], [a_bus, _]) = two_nodes();
        let (_, token) = a.create(NewSession::default()).await.unwrap();
        let (gone, gone_token) = a.create(NewSession::default()).await.unwrap();
        a.validate(&token).await.unwrap();
        a.revoke(&gone.sid).await.unwrap();
        let misses = a_metrics.misses.get();
        a.validate(&token).await.unwrap();
        assert_eq!(a_metrics.misses.get(), misses, "held before the gap");
        a_bus.gap();
        soon(async || a_metrics.resets.get() == 1).await;
        a.validate(&token).await.unwrap();
        assert_eq!(a_metrics.misses.get(), misses + 1, "asked the store again after the gap");
        assert!(a.validate(&gone_token).await.is_err(), "the revoked one stays refused");
        assert_eq!(a_metrics.misses.get(), misses + 1, "from the cache: ended is final");
    }
}
