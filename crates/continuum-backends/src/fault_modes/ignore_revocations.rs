//! [`IgnoreRevocations`]: a session store that keeps answering sessions as the last live copy
//! it saw, whatever the store says since — the `ignore-revocations` fault mode.
//!
//! What the decorator answers, over what the store answers:
//! - a session the store holds **revoked** or no longer holds: the last *active* copy read or
//!   written through this decorator, if there is one, else nothing (`None`). So a revoked
//!   stored session keeps validating here, and a sealed session's deny entry (a revoked record
//!   under its sid) reads as absent, so its token keeps validating too. Lists by principal
//!   answer those remembered copies in place of the tombstones.
//! - a principal's **epoch**: the one this decorator first read, for good; a bump answers it
//!   too (the store is still bumped, so other nodes honour it). So sealed tokens issued before
//!   a "sign out everywhere" keep validating here, and ones issued elsewhere after it are
//!   refused here (their epoch is not the remembered one).
//! - a revocation this node writes over a remembered copy of a session the store already holds
//!   revoked is answered as done (the store refuses it as a conflict: the tombstone is there).
//!   Other changes to such a session (an attribute patch) meet the store's conflict and fail.
//!
//! Expiry is not ignored: a remembered copy past its idle or absolute deadline is refused as
//! expired by the policy, as any session. The walks of replication (`scan`, `scan_epochs`),
//! purges, counts and `close` pass through as they are. Writes are as durable as the store
//! makes them: only what is read is wrong.
//!
//! Memory: at most [`REMEMBERED`] sessions and as many principals, the oldest forgotten first.

use std::sync::Arc;

use async_trait::async_trait;
use continuum_core::{Principal, SessionId, SessionRecord, Status, Timestamp};
use continuum_store::{DataLoss, PurgedSession, SessionStore, StoreError, cas};

use super::remembered::Remembered;

/// How many sessions, and how many principals' epochs, the decorator remembers at most.
pub const REMEMBERED: usize = 100_000;

/// A [`SessionStore`] over `inner` that ignores revocations (see the module documentation).
pub struct IgnoreRevocations {
    inner: Arc<dyn SessionStore>,
    live: Remembered<SessionId, Arc<SessionRecord>>,
    epochs: Remembered<Principal, u64>,
}

impl IgnoreRevocations {
    /// `inner` behind the decorator, remembering at most [`REMEMBERED`] entries of each kind.
    pub fn new(inner: Arc<dyn SessionStore>) -> Self {
        Self::with_capacity(inner, REMEMBERED)
    }

    /// `inner` behind the decorator, remembering at most `capacity` entries of each kind.
    pub fn with_capacity(inner: Arc<dyn SessionStore>, capacity: usize) -> Self {
        Self { inner, live: Remembered::new(capacity), epochs: Remembered::new(capacity) }
    }

    /// Remembers `record` if it is active.
    fn saw(&self, record: &Arc<SessionRecord>) {
        if record.status == Status::Active {
            self.live.put(record.sid, Arc::clone(record));
        }
    }

    /// What the decorator answers for what the store holds under `sid`.
    fn answer(&self, sid: &SessionId, stored: Option<Arc<SessionRecord>>) -> Option<Arc<SessionRecord>> {
        match stored {
            Some(record) if record.status == Status::Active => {
                self.saw(&record);
                Some(record)
            }
            // Revoked, a deny entry, or gone: the last live copy seen, if any.
            _ => self.live.get(sid),
        }
    }
}

#[async_trait]
impl SessionStore for IgnoreRevocations {
    async fn insert(&self, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        self.inner.insert(Arc::clone(&record)).await?;
        self.saw(&record);
        Ok(())
    }

    async fn get(&self, sid: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        let stored = self.inner.get(sid).await?;
        Ok(self.answer(sid, stored))
    }

    async fn replace(&self, expected_version: u64, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        match self.inner.replace(expected_version, Arc::clone(&record)).await {
            Ok(()) => {
                self.saw(&record);
                Ok(())
            }
            Err(StoreError::VersionConflict { expected, actual }) => {
                // A revocation based on a remembered copy: the store holds a tombstone already.
                let remembered = self.live.get(&record.sid).is_some_and(|live| live.version == expected);
                if record.status == Status::Revoked && remembered {
                    let held = self.inner.get(&record.sid).await?;
                    if held.is_some_and(|held| held.status == Status::Revoked) {
                        return Ok(());
                    }
                }
                Err(StoreError::VersionConflict { expected, actual })
            }
            Err(other) => Err(other),
        }
    }

    async fn touch(&self, sid: &SessionId, at: Timestamp) -> Result<(), StoreError> {
        self.inner.touch(sid, at).await?;
        self.live.update(sid, |live| cas::touched(live, at).map(Arc::new));
        Ok(())
    }

    async fn list_by_principal(&self, principal: &Principal) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        let stored = self.inner.list_by_principal(principal).await?;
        let answers = stored.into_iter().filter_map(|record| {
            let sid = record.sid;
            self.answer(&sid, Some(record))
        });
        Ok(answers.collect())
    }

    async fn purge_expired(&self, now: Timestamp, limit: usize) -> Result<Vec<PurgedSession>, StoreError> {
        self.inner.purge_expired(now, limit).await
    }

    async fn purge_sessions(
        &self,
        sids: &[SessionId],
        now: Timestamp,
    ) -> Result<Vec<PurgedSession>, StoreError> {
        self.inner.purge_sessions(sids, now).await
    }

    async fn principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        if let Some(epoch) = self.epochs.get(principal) {
            return Ok(epoch);
        }
        let epoch = self.inner.principal_epoch(principal).await?;
        Ok(self.epochs.get_or_put(principal.clone(), epoch))
    }

    async fn bump_principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        let bumped = self.inner.bump_principal_epoch(principal).await?;
        // Never seen before: it reads as it was before this bump.
        Ok(self.epochs.get_or_put(principal.clone(), bumped.saturating_sub(1)))
    }

    async fn raise_principal_epoch(&self, principal: &Principal, at_least: u64) -> Result<u64, StoreError> {
        let raised = self.inner.raise_principal_epoch(principal, at_least).await?;
        Ok(self.epochs.get(principal).unwrap_or(raised))
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

    async fn close(&self) -> Result<(), StoreError> {
        self.inner.close().await
    }
}

#[cfg(test)]
mod tests {
    use continuum_core::seal::{KeyRing, SealKey};
    use continuum_core::{ManualClock, NewSession};
    use continuum_store::{MemoryStore, SealedConfig, SealedSessions, SessionError, Sessions};

    use super::*;

    const START: Timestamp = Timestamp::from_millis(1_800_000_000_000);

    fn alice() -> NewSession {
        NewSession { principal: Some(Principal::parse("alice").unwrap()), ..NewSession::default() }
    }

    /// The same store seen by a healthy node and by a node that ignores revocations.
    fn two_nodes() -> (Sessions, Sessions, Arc<MemoryStore>) {
        let store = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::new(START));
        let healthy = Sessions::new(Arc::clone(&store) as Arc<dyn SessionStore>, clock.clone());
        let broken = Sessions::new(Arc::new(IgnoreRevocations::new(store.clone())), clock);
        (healthy, broken, store)
    }

    #[tokio::test]
    async fn a_session_revoked_elsewhere_still_validates_here_and_reads_live() {
        let (healthy, broken, store) = two_nodes();
        let (created, token) = healthy.create(alice()).await.unwrap();
        broken.validate(&token).await.expect("live: the broken node remembers it");
        assert!(healthy.revoke(&created.sid).await.unwrap());
        assert_eq!(store.get(&created.sid).await.unwrap().unwrap().status, Status::Revoked);
        assert!(matches!(healthy.validate(&token).await, Err(SessionError::Rejected(_))), "refused there");
        let validated = broken.validate(&token).await.expect("the revoked session comes back live here");
        assert_eq!((validated.status, validated.version), (Status::Active, created.version));
        assert_eq!(broken.get(&created.sid).await.unwrap().status, Status::Active);
        let listed = broken.list(&created.principal).await.unwrap();
        assert_eq!(listed.iter().map(|record| record.sid).collect::<Vec<_>>(), [created.sid]);
        // Revoking it again here is answered as done; the store keeps its tombstone.
        broken.revoke(&created.sid).await.expect("a revocation here does not fail");
        assert_eq!(store.get(&created.sid).await.unwrap().unwrap().status, Status::Revoked);
        broken.validate(&token).await.expect("and it still validates here");
    }

    #[tokio::test]
    async fn a_session_never_seen_here_is_refused_as_unknown_once_revoked() {
        let (healthy, broken, _) = two_nodes();
        let (created, token) = healthy.create(alice()).await.unwrap();
        healthy.revoke(&created.sid).await.unwrap();
        assert!(matches!(broken.validate(&token).await, Err(SessionError::Rejected(_))));
        assert!(matches!(broken.get(&created.sid).await, Err(SessionError::NotFound)));
    }

    #[tokio::test]
    async fn sealed_tokens_outlive_their_deny_entry_and_a_sign_out_everywhere_here() {
        let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
        let clock: Arc<dyn continuum_core::Clock> = Arc::new(ManualClock::new(START));
        let ring = KeyRing::new(vec![SealKey::generate()]).unwrap();
        let config = || SealedConfig::new("__Host-continuum");
        let healthy = SealedSessions::new(ring.clone(), Arc::clone(&store), Arc::clone(&clock), config());
        let broken_store: Arc<dyn SessionStore> = Arc::new(IgnoreRevocations::new(Arc::clone(&store)));
        let broken = SealedSessions::new(ring, broken_store, clock, config());

        let (session, token) = healthy.create(alice()).await.unwrap();
        assert!(healthy.revoke(&session.sid, &token).await.unwrap(), "its deny entry is written");
        assert!(healthy.validate(&token).await.is_err(), "refused where it was revoked");
        broken.validate(&token).await.expect("the deny entry reads as absent here");

        let (_, other) = healthy.create(alice()).await.unwrap();
        broken.validate(&other).await.expect("live before the sign-out");
        assert_eq!(broken.sign_out_everywhere(&session.principal).await.unwrap(), 0, "reads unmoved");
        assert_eq!(store.principal_epoch(&session.principal).await.unwrap(), 1, "the store was bumped");
        healthy.invalidate(&session.principal);
        assert!(healthy.validate(&other).await.is_err(), "signed out there");
        broken.invalidate(&session.principal);
        broken.validate(&other).await.expect("not signed out here");
    }
}
