//! The [`SessionStore`] trait: the atomic primitives every session backend provides.

use std::sync::Arc;

use async_trait::async_trait;
use continuum_core::{Principal, SessionId, SessionRecord, Status, Timestamp};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An insert found a session with the same id.
    #[error("a session with this id already exists")]
    AlreadyExists,
    /// A replace found no session with this id.
    #[error("no session with this id")]
    NotFound,
    /// A replace found another version than the one it was based on.
    #[error("the session changed: expected version {expected}, found {actual}")]
    VersionConflict {
        /// The version the write was based on.
        expected: u64,
        /// The version in the store.
        actual: u64,
    },
    /// A replace that does not increase the version or changes the id.
    #[error("invalid write: {0}")]
    InvalidWrite(&'static str),
    /// The store is shutting down and takes no more writes.
    #[error("the store is closed")]
    Closed,
    /// The store cannot answer now but may soon: a replicated cluster without a quorum here, or
    /// whose owners of the key could not be reached while membership settled. A write that
    /// fails so may or may not have been applied; retrying it is safe (its compare-and-swap
    /// says which).
    #[error("the session store is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The backend failed (I/O, connection, corruption); the cause is kept.
    #[error("the session store failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// Wraps a backend error, keeping it as the cause.
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(error))
    }
}

/// A session [`SessionStore::purge_expired`] deleted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurgedSession {
    /// Its id.
    pub sid: SessionId,
    /// Whose it was.
    pub principal: Principal,
    /// `true` if it was active, so it expired (idle or absolute) rather than having been a
    /// revoked session's tombstone.
    pub expired: bool,
}

impl PurgedSession {
    /// What purging `record` deleted.
    pub fn of(record: &SessionRecord) -> Self {
        Self {
            sid: record.sid,
            principal: record.principal.clone(),
            expired: record.status == Status::Active,
        }
    }
}

/// The primitives a session backend offers. Each call is atomic on its own.
///
/// Implementations document what an acknowledged write survives (a process crash, a power loss,
/// the loss of a node). Reads see every write acknowledged before they started.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Adds a new session; [`StoreError::AlreadyExists`] if its id is taken.
    async fn insert(&self, record: Arc<SessionRecord>) -> Result<(), StoreError>;

    /// The session with this id, tombstones included, or `None`.
    async fn get(&self, sid: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError>;

    /// Replaces a session if its stored version is still `expected_version` (compare-and-swap);
    /// [`StoreError::VersionConflict`] otherwise. `record.version` must be greater.
    async fn replace(&self, expected_version: u64, record: Arc<SessionRecord>) -> Result<(), StoreError>;

    /// Moves an active session's `last_seen_at` forward to `at`; never backwards, never on a
    /// tombstone, and without changing its version. Absent sessions are ignored.
    async fn touch(&self, sid: &SessionId, at: Timestamp) -> Result<(), StoreError>;

    /// Every session of `principal`, tombstones included, in no particular order.
    async fn list_by_principal(&self, principal: &Principal) -> Result<Vec<Arc<SessionRecord>>, StoreError>;

    /// Deletes up to `limit` sessions whose [`SessionRecord::purge_at`] is at or before `now`;
    /// returns what it deleted.
    async fn purge_expired(&self, now: Timestamp, limit: usize) -> Result<Vec<PurgedSession>, StoreError>;

    /// Deletes those of `sids` whose [`SessionRecord::purge_at`] is at or before `now`; returns
    /// what it deleted. How a replicated cluster purges one session on each of its owners.
    /// Stores that cannot refuse with [`StoreError::InvalidWrite`]; the default does.
    async fn purge_sessions(
        &self,
        sids: &[SessionId],
        now: Timestamp,
    ) -> Result<Vec<PurgedSession>, StoreError> {
        let _ = (sids, now);
        Err(StoreError::InvalidWrite("this store cannot purge sessions by id"))
    }

    /// The principal's epoch: how many times it signed out everywhere (0 if never). A sealed
    /// token is valid only while the epoch it carries is the current one.
    async fn principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError>;

    /// Adds one to the principal's epoch, atomically, and returns the new value, so every sealed
    /// token issued before is refused. Concurrent bumps each return a different value.
    async fn bump_principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError>;

    /// Raises the principal's epoch to at least `at_least` and returns the epoch afterwards: how
    /// a replica applies a bump its primary made. The default bumps until it gets there.
    async fn raise_principal_epoch(&self, principal: &Principal, at_least: u64) -> Result<u64, StoreError> {
        let mut epoch = self.principal_epoch(principal).await?;
        while epoch < at_least {
            epoch = self.bump_principal_epoch(principal).await?;
        }
        Ok(epoch)
    }

    /// Up to `limit` sessions with an id after `after` (from the first when `None`), in id
    /// order, tombstones included: how a node walks what it holds (a replica's transfer, a
    /// count of what it owns). Stores that cannot walk their sessions refuse with
    /// [`StoreError::InvalidWrite`]; the default does.
    async fn scan(
        &self,
        after: Option<SessionId>,
        limit: usize,
    ) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        let _ = (after, limit);
        Err(StoreError::InvalidWrite("this store cannot walk its sessions"))
    }

    /// Up to `limit` principals with an epoch above 0 and a name after `after` (from the
    /// first when `None`), in name order, with their epochs: how a replica hands the epochs it
    /// holds to their new owners. Stores that cannot walk them refuse with
    /// [`StoreError::InvalidWrite`]; the default does.
    async fn scan_epochs(
        &self,
        after: Option<&Principal>,
        limit: usize,
    ) -> Result<Vec<(Principal, u64)>, StoreError> {
        let _ = (after, limit);
        Err(StoreError::InvalidWrite("this store cannot walk its principals' epochs"))
    }

    /// What the store cannot serve because every node holding it is gone, as it changes; `None`
    /// for stores that cannot lose data this way (the default: every store but the replicated
    /// one). The server reports it on `/readyz`, `/v1/events` and in its log.
    fn data_loss(&self) -> Option<tokio::sync::watch::Receiver<crate::DataLoss>> {
        None
    }

    /// How many sessions the store holds, tombstones included.
    async fn count(&self) -> Result<u64, StoreError>;

    /// Whether the store answers now, for readiness checks: the cheapest round trip the backend
    /// has. The default asks for [`SessionStore::count`].
    async fn ping(&self) -> Result<(), StoreError> {
        self.count().await.map(drop)
    }

    /// Finishes the writes already accepted, makes them durable and stops taking new ones.
    /// Later writes fail with [`StoreError::Closed`]. Stores without background work do nothing.
    async fn close(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
