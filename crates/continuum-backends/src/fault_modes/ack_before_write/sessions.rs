//! [`DelayedSessions`]: the session store face of [`super::AckBeforeWrite`].

use std::sync::Arc;

use async_trait::async_trait;
use continuum_core::{Principal, SessionId, SessionRecord, Timestamp};
use continuum_store::{DataLoss, PurgedSession, SessionStore, StoreError};

use super::Shared;
use super::late_writer::{Counted, Write};

/// A [`SessionStore`] answering writes before it makes them (see [`super`]): an acknowledged
/// write survives nothing until it is applied, [`super::DELAY`] later.
pub struct DelayedSessions {
    pub(super) shared: Arc<Shared>,
}

#[async_trait]
impl SessionStore for DelayedSessions {
    async fn insert(&self, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        self.shared.enqueue(Write::Insert(record)).await
    }

    async fn get(&self, sid: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        self.shared.sessions.get(sid).await
    }

    async fn replace(&self, expected_version: u64, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        self.shared.enqueue(Write::Replace { expected: expected_version, record }).await
    }

    async fn touch(&self, sid: &SessionId, at: Timestamp) -> Result<(), StoreError> {
        self.shared.enqueue(Write::Touch { sid: *sid, at }).await
    }

    async fn list_by_principal(&self, principal: &Principal) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        self.shared.sessions.list_by_principal(principal).await
    }

    async fn purge_expired(&self, now: Timestamp, limit: usize) -> Result<Vec<PurgedSession>, StoreError> {
        self.shared.sessions.purge_expired(now, limit).await
    }

    async fn purge_sessions(
        &self,
        sids: &[SessionId],
        now: Timestamp,
    ) -> Result<Vec<PurgedSession>, StoreError> {
        self.shared.sessions.purge_sessions(sids, now).await
    }

    async fn principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        self.shared.sessions.principal_epoch(principal).await
    }

    async fn bump_principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        self.shared.refuse_if_closed()?;
        let stored = self.shared.sessions.principal_epoch(principal);
        let guess = self.shared.guesses.next(&Counted::Epoch(principal.clone()), stored).await?;
        self.shared.enqueue(Write::Bump(principal.clone())).await?;
        Ok(guess)
    }

    async fn raise_principal_epoch(&self, principal: &Principal, at_least: u64) -> Result<u64, StoreError> {
        let stored = self.shared.sessions.principal_epoch(principal).await?;
        self.shared.enqueue(Write::Raise { principal: principal.clone(), at_least }).await?;
        Ok(stored.max(at_least))
    }

    async fn scan(
        &self,
        after: Option<SessionId>,
        limit: usize,
    ) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        self.shared.sessions.scan(after, limit).await
    }

    async fn scan_epochs(
        &self,
        after: Option<&Principal>,
        limit: usize,
    ) -> Result<Vec<(Principal, u64)>, StoreError> {
        self.shared.sessions.scan_epochs(after, limit).await
    }

    fn data_loss(&self) -> Option<tokio::sync::watch::Receiver<DataLoss>> {
        self.shared.sessions.data_loss()
    }

    async fn count(&self) -> Result<u64, StoreError> {
        self.shared.sessions.count().await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.shared.sessions.ping().await
    }

    /// Applies everything queued, then closes the real store: a graceful stop loses nothing.
    async fn close(&self) -> Result<(), StoreError> {
        self.shared.close().await
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use continuum_core::{ManualClock, NewSession, SessionPolicy};
    use continuum_store::{MemoryDocStore, MemoryStore, SessionError, Sessions};
    use serde_json::json;

    use super::super::{AckBeforeWrite, DELAY};
    use super::*;

    const START: Timestamp = Timestamp::from_millis(1_800_000_000_000);

    fn record() -> Arc<SessionRecord> {
        let ask = NewSession { principal: Some(Principal::parse("alice").unwrap()), ..NewSession::default() };
        Arc::new(SessionPolicy::default().new_session(ask, START).unwrap().0)
    }

    /// Polls until `sid` is in `store`, and returns how long that took.
    async fn until_stored(store: &MemoryStore, sid: &SessionId, version: u64) -> Duration {
        let started = Instant::now();
        loop {
            if store.get(sid).await.unwrap().is_some_and(|held| held.version == version) {
                return started.elapsed();
            }
            assert!(started.elapsed() < Duration::from_secs(10), "never applied");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    #[tokio::test]
    async fn an_acknowledged_insert_is_not_in_the_store_until_the_delay_has_passed() {
        let store = Arc::new(MemoryStore::new());
        let delayed = AckBeforeWrite::new(store.clone(), Arc::new(MemoryDocStore::new())).sessions();
        let session = record();
        let answered = Instant::now();
        delayed.insert(Arc::clone(&session)).await.expect("acknowledged at once");
        assert!(store.get(&session.sid).await.unwrap().is_none(), "not written when acknowledged");
        assert!(delayed.get(&session.sid).await.unwrap().is_none(), "reads see the old state");
        until_stored(&store, &session.sid, session.version).await;
        assert!(answered.elapsed() >= DELAY, "applied {:?} after the answer", answered.elapsed());
        assert_eq!(delayed.get(&session.sid).await.unwrap().unwrap(), session);
    }

    #[tokio::test]
    async fn two_patches_from_one_version_both_succeed_and_the_second_is_lost() {
        let store = Arc::new(MemoryStore::new());
        let session = record();
        store.insert(Arc::clone(&session)).await.unwrap();
        let delayed = AckBeforeWrite::new(store.clone(), Arc::new(MemoryDocStore::new())).sessions();
        let sessions = Sessions::new(Arc::new(delayed), Arc::new(ManualClock::new(START)));
        let version = session.version;
        let first = sessions.patch_attributes(&session.sid, &json!({"a": 1}), Some(version)).await.unwrap();
        let second = sessions.patch_attributes(&session.sid, &json!({"b": 2}), Some(version)).await;
        let second = second.expect("the old state still has the version asked for");
        assert_eq!((first.version, second.version), (version + 1, version + 1), "both answer one version");
        until_stored(&store, &session.sid, version + 1).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let stored = store.get(&session.sid).await.unwrap().unwrap();
        assert_eq!(stored.attributes.get("a"), Some(&json!(1)));
        assert_eq!(stored.attributes.get("b"), None, "the second acknowledged patch was refused late");
        let stale = sessions.patch_attributes(&session.sid, &json!({"c": 3}), Some(version)).await;
        assert!(matches!(stale, Err(SessionError::PreconditionFailed { .. })), "{stale:?}");
    }

    #[tokio::test]
    async fn bumps_answer_guessed_epochs_and_close_applies_what_is_queued() {
        let store = Arc::new(MemoryStore::new());
        let delayed = AckBeforeWrite::new(store.clone(), Arc::new(MemoryDocStore::new())).sessions();
        let alice = Principal::parse("alice").unwrap();
        assert_eq!(delayed.bump_principal_epoch(&alice).await.unwrap(), 1);
        assert_eq!(delayed.bump_principal_epoch(&alice).await.unwrap(), 2);
        assert_eq!(store.principal_epoch(&alice).await.unwrap(), 0, "nothing bumped yet");
        let session = record();
        delayed.insert(Arc::clone(&session)).await.unwrap();
        delayed.close().await.expect("closes");
        assert_eq!(store.principal_epoch(&alice).await.unwrap(), 2, "applied before closing");
        assert!(store.get(&session.sid).await.unwrap().is_some());
        assert!(matches!(delayed.insert(record()).await, Err(StoreError::Closed)));
    }
}
