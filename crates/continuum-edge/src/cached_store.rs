//! [`CachedSessions`]: the edge's [`SessionStore`] — reads answered from the [`SessionCache`]
//! or fetched from the origin, touches passed on to the origin in the background; every write is
//! the origin's (the edge forwards the routes that write, see [`crate::forward`]).
//!
//! Durability: the edge keeps nothing of sessions; everything acknowledged is the origin's.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use async_trait::async_trait;
use continuum_core::{Principal, SessionId, SessionRecord, Timestamp};
use continuum_store::{PurgedSession, SessionStore, StoreError};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::metrics::EdgeMetrics;
use crate::origin::OriginClient;
use continuum_store::session_cache::{Lookup, SessionCache};

/// Touches waiting to be passed on to the origin; past it they are dropped and counted (a touch
/// is lazy anyway: the next one carries the same news).
pub const TOUCH_QUEUE: usize = 4096;

/// Why an edge refuses a store write: sessions are written at the origin only.
const ORIGIN_WRITES: &str = "an edge does not write sessions; the origin does";

/// What an edge leaves to its origin, as the cause of a [`StoreError::Unavailable`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OriginOnly(&'static str);

/// The session cache shared by the store, the event listener and the touch task.
pub type SharedCache = Arc<Mutex<SessionCache>>;

/// Locks `cache`; a poisoned lock is taken as it is (every change leaves the cache consistent).
pub fn lock(cache: &SharedCache) -> MutexGuard<'_, SessionCache> {
    cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The edge's session store. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct CachedSessions {
    cache: SharedCache,
    origin: OriginClient,
    touches: mpsc::Sender<SessionId>,
    metrics: Arc<EdgeMetrics>,
}

/// The background task passing touches on to the origin.
#[derive(Debug)]
pub struct Toucher {
    cache: SharedCache,
    origin: OriginClient,
    touches: mpsc::Receiver<SessionId>,
}

impl CachedSessions {
    /// The store over `cache` and `origin`, and the task that must run for touches to reach it.
    pub fn new(cache: SharedCache, origin: OriginClient, metrics: Arc<EdgeMetrics>) -> (Self, Toucher) {
        let (sender, receiver) = mpsc::channel(TOUCH_QUEUE);
        let toucher = Toucher { cache: Arc::clone(&cache), origin: origin.clone(), touches: receiver };
        (Self { cache, origin, touches: sender, metrics }, toucher)
    }
}

impl Toucher {
    /// Passes touches on, one at a time, until `cancel` fires. A session the origin says is not
    /// live ends here too.
    pub async fn run(mut self, cancel: CancellationToken) {
        loop {
            let sid = tokio::select! {
                () = cancel.cancelled() => return,
                sid = self.touches.recv() => match sid { Some(sid) => sid, None => return },
            };
            match self.origin.touch(&sid).await {
                Ok(true) => {}
                Ok(false) => lock(&self.cache).ended(sid, Instant::now()),
                Err(error) => {
                    tracing::debug!(%sid, error = &error as &dyn std::error::Error, "a touch did not reach the origin")
                }
            }
        }
    }
}

#[async_trait]
impl SessionStore for CachedSessions {
    async fn insert(&self, _: Arc<SessionRecord>) -> Result<(), StoreError> {
        Err(StoreError::InvalidWrite(ORIGIN_WRITES))
    }

    /// From the cache when it may answer (see [`crate::cache`]), else from the origin;
    /// [`StoreError::Unavailable`] when the origin does not answer, so a validation the cache
    /// cannot vouch for fails closed.
    async fn get(&self, sid: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        let ticket = {
            let cache = lock(&self.cache);
            let now = Instant::now();
            if let Lookup::Hit(answer) = cache.get(sid, now) {
                self.metrics.cache_hits.inc();
                if let Some(age) = cache.age(sid, now) {
                    self.metrics.hit_age.observe(age.as_secs_f64());
                }
                return Ok(answer);
            }
            cache.ticket()
        };
        self.metrics.cache_misses.inc();
        let fetched = match self.origin.record(sid).await {
            Ok(record) => record.map(Arc::new),
            Err(error) => {
                self.metrics.origin_errors.inc();
                return Err(StoreError::Unavailable(Box::new(error)));
            }
        };
        lock(&self.cache).insert(ticket, *sid, fetched.clone(), Instant::now());
        Ok(fetched)
    }

    async fn replace(&self, _: u64, _: Arc<SessionRecord>) -> Result<(), StoreError> {
        Err(StoreError::InvalidWrite(ORIGIN_WRITES))
    }

    /// Moves the cached record's last use forward and queues the touch for the origin.
    async fn touch(&self, sid: &SessionId, at: Timestamp) -> Result<(), StoreError> {
        lock(&self.cache).touched(sid, at);
        if self.touches.try_send(*sid).is_err() {
            self.metrics.touches_dropped.inc();
        }
        Ok(())
    }

    async fn list_by_principal(&self, _: &Principal) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        Err(StoreError::InvalidWrite("an edge does not list sessions; the origin does"))
    }

    /// Nothing: the origin purges.
    async fn purge_expired(&self, _: Timestamp, _: usize) -> Result<Vec<PurgedSession>, StoreError> {
        Ok(Vec::new())
    }

    /// Refused: a sealed token is checked against its principal's epoch at the origin, and an
    /// edge that answered any epoch itself could accept a token signed out everywhere. Sealed
    /// tokens fail closed at an edge (see `docs/design.md`).
    async fn principal_epoch(&self, _: &Principal) -> Result<u64, StoreError> {
        Err(StoreError::Unavailable(Box::new(OriginOnly("sealed tokens are validated at the origin"))))
    }

    async fn bump_principal_epoch(&self, _: &Principal) -> Result<u64, StoreError> {
        Err(StoreError::InvalidWrite(ORIGIN_WRITES))
    }

    /// The cached entries.
    async fn count(&self) -> Result<u64, StoreError> {
        Ok(lock(&self.cache).len() as u64)
    }

    /// Always: an edge is ready while its origin is away (it serves from its cache and fails
    /// closed past the cap); whether the origin answers shows in the edge's metrics.
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
