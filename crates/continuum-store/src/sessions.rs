//! [`Sessions`]: the session service — create, validate, patch, rotate, revoke — built on the
//! primitives of any [`SessionStore`], with the decisions taken by [`SessionPolicy`].

use std::sync::Arc;

use continuum_core::{
    Clock, LimitError, Limits, NewSession, PolicyError, Principal, Rejection, SessionId, SessionPolicy,
    SessionRecord, Timestamp, Token,
};
use serde_json::Value;
use tokio::sync::broadcast;

use crate::cas;
use crate::events::{SessionEvent, SessionEventKind};
use crate::store::{SessionStore, StoreError};

/// How many events a subscriber of [`Sessions::events`] may fall behind before it is told it
/// lagged.
pub const EVENTS_CAPACITY: usize = 4096;

/// How many times a write without `If-Match` retries after losing a compare-and-swap race before
/// giving up with [`SessionError::Contention`]. Each retry means another writer succeeded, so
/// the system as a whole always makes progress.
pub const MAX_CAS_ATTEMPTS: usize = 256;

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The token does not open a session, or the session has ended (revoked or expired).
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// No session with this id.
    #[error("no session with this id")]
    NotFound,
    /// `If-Match` named another version than the stored one.
    #[error("the session is at version {current}, not {expected}")]
    PreconditionFailed {
        /// The version the caller named.
        expected: u64,
        /// The version in the store.
        current: u64,
    },
    /// The request asked for something the policy does not allow.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The request was too large.
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// An attribute patch that is not a JSON object.
    #[error("an attributes patch must be a JSON object (RFC 7396 merge patch)")]
    InvalidPatch,
    /// Other writers kept winning; the caller may retry.
    #[error("the session is being changed by too many requests at once; retry")]
    Contention,
    /// The store failed.
    #[error("the session store failed")]
    Store(#[source] StoreError),
}

impl From<StoreError> for SessionError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => SessionError::NotFound,
            other => SessionError::Store(other),
        }
    }
}

/// Refuses a new session whose attributes, device label or user agent pass `limits`: the same
/// checks for stored and sealed sessions.
pub(crate) fn check_new_session(limits: &Limits, ask: &NewSession) -> Result<(), LimitError> {
    limits.check_attributes(&ask.attributes)?;
    if let Some(label) = &ask.device.label {
        Limits::check_field("device.label", label, limits.max_label_bytes)?;
    }
    if let Some(user_agent) = &ask.device.user_agent {
        Limits::check_field("device.user_agent", user_agent, limits.max_user_agent_bytes)?;
    }
    Ok(())
}

struct Inner {
    store: Arc<dyn SessionStore>,
    clock: Arc<dyn Clock>,
    policy: SessionPolicy,
    limits: Limits,
    events: broadcast::Sender<SessionEvent>,
}

/// The session service over one store. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").field("policy", &self.inner.policy).finish_non_exhaustive()
    }
}

impl Sessions {
    /// The service over `store`, with time from `clock`, the default policy and limits.
    pub fn new(store: Arc<dyn SessionStore>, clock: Arc<dyn Clock>) -> Self {
        Self::with_config(store, clock, SessionPolicy::default(), Limits::default())
    }

    /// The service with an explicit policy and limits.
    pub fn with_config(
        store: Arc<dyn SessionStore>,
        clock: Arc<dyn Clock>,
        policy: SessionPolicy,
        limits: Limits,
    ) -> Self {
        let events = broadcast::channel(EVENTS_CAPACITY).0;
        Self { inner: Arc::new(Inner { store, clock, policy, limits, events }) }
    }

    /// The events of the sessions this service creates, rotates and revokes from now on (this
    /// process only; a bus carries them to other nodes). Never blocks the operations: a
    /// subscriber more than [`EVENTS_CAPACITY`] events behind is told it lagged.
    pub fn events(&self) -> broadcast::Receiver<SessionEvent> {
        self.inner.events.subscribe()
    }

    /// Announces `kind` for `record`.
    fn announce(&self, kind: SessionEventKind, record: &SessionRecord) {
        let event =
            SessionEvent { kind, sid: record.sid, principal: record.principal.clone(), at: self.now() };
        // No subscriber is not an error.
        let _ = self.inner.events.send(event);
    }

    /// The store underneath.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.inner.store
    }

    /// The policy in force.
    pub fn policy(&self) -> &SessionPolicy {
        &self.inner.policy
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The current time from the injected clock.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// Creates a session; returns it and its token (the only copy of the secret).
    pub async fn create(&self, ask: NewSession) -> Result<(Arc<SessionRecord>, Token), SessionError> {
        check_new_session(&self.inner.limits, &ask)?;
        let (record, token) = self.inner.policy.new_session(ask, self.now())?;
        let record = Arc::new(record);
        self.inner.store.insert(Arc::clone(&record)).await?;
        self.announce(SessionEventKind::Created, &record);
        Ok((record, token))
    }

    /// The hot path: the session a token opens, touched. Persists the touch only when the policy
    /// says it is due (lazy touch).
    pub async fn validate(&self, token: &Token) -> Result<Arc<SessionRecord>, SessionError> {
        self.validate_at(token, self.now()).await
    }

    /// [`Sessions::validate`] at a time the caller read from [`Sessions::now`], so that it can
    /// describe the session as of the same instant (a session valid at `now` is active at `now`)
    /// without reading the clock again.
    pub async fn validate_at(
        &self,
        token: &Token,
        now: Timestamp,
    ) -> Result<Arc<SessionRecord>, SessionError> {
        let record = self.inner.store.get(&token.sid).await?.ok_or(Rejection::UnknownToken)?;
        let validation = self.inner.policy.validate(&record, &token.secret, now)?;
        let Some(at) = validation.touch else { return Ok(record) };
        self.inner.store.touch(&token.sid, at).await?;
        Ok(cas::touched(&record, at).map(Arc::new).unwrap_or(record))
    }

    /// Records activity on a live session known by id (a sync socket's messages), persisting the
    /// touch only when the policy says it is due, as [`Sessions::validate`] does. Returns whether
    /// the session is live.
    pub async fn touch_live(&self, sid: &SessionId) -> Result<bool, SessionError> {
        let now = self.now();
        let Some(record) = self.inner.store.get(sid).await? else { return Ok(false) };
        if !record.is_live(now) {
            return Ok(false);
        }
        if self.inner.policy.touch_due(&record, now) {
            self.inner.store.touch(sid, now).await?;
        }
        Ok(true)
    }

    /// The session with this id, whatever its state.
    pub async fn get(&self, sid: &SessionId) -> Result<Arc<SessionRecord>, SessionError> {
        self.inner.store.get(sid).await?.ok_or(SessionError::NotFound)
    }

    /// Applies an RFC 7396 merge patch to the attributes, atomically. With `if_match`, fails with
    /// [`SessionError::PreconditionFailed`] unless the stored version is that one; without it,
    /// retries on concurrent writes so no update is lost.
    pub async fn patch_attributes(
        &self,
        sid: &SessionId,
        patch: &Value,
        if_match: Option<u64>,
    ) -> Result<Arc<SessionRecord>, SessionError> {
        if !patch.is_object() {
            return Err(SessionError::InvalidPatch);
        }
        self.update(sid, if_match, |current, now, policy| {
            policy.check_live(current, now)?;
            let mut next = current.clone();
            let mut attributes = Value::Object(std::mem::take(&mut next.attributes));
            json_patch::merge(&mut attributes, patch);
            let Value::Object(attributes) = attributes else {
                unreachable!("an object patched by an object")
            };
            self.inner.limits.check_attributes(&attributes)?;
            next.attributes = attributes;
            next.version += 1;
            Ok(Some(next))
        })
        .await
        .map(|(record, _)| record)
    }

    /// Issues a new secret for the session; the old one stays valid for the grace window.
    pub async fn rotate(&self, sid: &SessionId) -> Result<(Arc<SessionRecord>, Token), SessionError> {
        let mut token = None;
        let (record, _) = self
            .update(sid, None, |current, now, policy| {
                let (next, issued) = policy.rotate(current, now)?;
                token = Some(issued);
                Ok(Some(next))
            })
            .await?;
        self.announce(SessionEventKind::Rotated, &record);
        Ok((record, token.expect("a successful rotation issued a token")))
    }

    /// Revokes the session, leaving a tombstone. `Ok(false)` if it was already revoked.
    pub async fn revoke(&self, sid: &SessionId) -> Result<bool, SessionError> {
        let (record, changed) =
            self.update(sid, None, |current, _, policy| Ok(policy.revoke(current))).await?;
        if changed {
            self.announce(SessionEventKind::Revoked, &record);
        }
        Ok(changed)
    }

    /// The live sessions of `principal`, oldest first.
    pub async fn list(&self, principal: &Principal) -> Result<Vec<Arc<SessionRecord>>, SessionError> {
        let now = self.now();
        let mut sessions = self.inner.store.list_by_principal(principal).await?;
        sessions.retain(|record| record.is_live(now));
        sessions.sort_by_key(|record| (record.created_at, record.sid));
        Ok(sessions)
    }

    /// Revokes every live session of `principal` but `except`; returns how many it revoked.
    pub async fn revoke_principal(
        &self,
        principal: &Principal,
        except: Option<&SessionId>,
    ) -> Result<usize, SessionError> {
        let mut revoked = 0;
        for record in self.list(principal).await? {
            if Some(&record.sid) == except {
                continue;
            }
            match self.revoke(&record.sid).await {
                Ok(true) => revoked += 1,
                Ok(false) | Err(SessionError::NotFound) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(revoked)
    }

    /// Keeps `principal` within `max` live sessions: revokes its oldest ones beyond `max`, never
    /// `keep` (the session just created); returns how many it revoked. One list by principal
    /// and a revoke per session over the cap, so callers run it when a session is created, never
    /// on validation. Concurrent callers converge: each revokes the oldest, and revoking twice
    /// is a no-op.
    pub async fn sign_out_beyond(
        &self,
        principal: &Principal,
        max: usize,
        keep: &SessionId,
    ) -> Result<usize, SessionError> {
        let live = self.list(principal).await?;
        let mut revoked = 0;
        for sid in oldest_beyond(&live, max, keep) {
            match self.revoke(&sid).await {
                Ok(true) => revoked += 1,
                Ok(false) | Err(SessionError::NotFound) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(revoked)
    }

    /// Deletes up to `limit` sessions past their purge time; returns how many. Announces an
    /// `expired` event for each that was active (a revoked session's tombstone was announced
    /// when it was revoked).
    pub async fn purge_expired(&self, limit: usize) -> Result<usize, SessionError> {
        let now = self.now();
        let purged = self.inner.store.purge_expired(now, limit).await?;
        for session in purged.iter().filter(|session| session.expired) {
            let event = SessionEvent {
                kind: SessionEventKind::Expired,
                sid: session.sid,
                principal: session.principal.clone(),
                at: now,
            };
            let _ = self.inner.events.send(event);
        }
        Ok(purged.len())
    }

    /// A read-modify-write loop: `change` computes the next record from the current one (or
    /// `None` for no change), and the write is a compare-and-swap on the version it read.
    async fn update<F>(
        &self,
        sid: &SessionId,
        if_match: Option<u64>,
        mut change: F,
    ) -> Result<(Arc<SessionRecord>, bool), SessionError>
    where
        F: FnMut(&SessionRecord, Timestamp, &SessionPolicy) -> Result<Option<SessionRecord>, SessionError>,
    {
        for _ in 0..MAX_CAS_ATTEMPTS {
            let current = self.get(sid).await?;
            if let Some(expected) = if_match
                && expected != current.version
            {
                return Err(SessionError::PreconditionFailed { expected, current: current.version });
            }
            let Some(next) = change(&current, self.now(), &self.inner.policy)? else {
                return Ok((current, false));
            };
            let next = Arc::new(next);
            match self.inner.store.replace(current.version, Arc::clone(&next)).await {
                Ok(()) => return Ok((next, true)),
                Err(StoreError::VersionConflict { actual, .. }) => {
                    if let Some(expected) = if_match {
                        return Err(SessionError::PreconditionFailed { expected, current: actual });
                    }
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(SessionError::Contention)
    }
}

/// Of `live` (oldest first), the sessions to sign out so that at most `max` are left, `keep`
/// always among them.
fn oldest_beyond(live: &[Arc<SessionRecord>], max: usize, keep: &SessionId) -> Vec<SessionId> {
    let excess = live.len().saturating_sub(max.max(1));
    live.iter().map(|record| record.sid).filter(|sid| sid != keep).take(excess).collect()
}

#[cfg(test)]
mod tests {
    use continuum_core::{ManualClock, NewSession, Principal, Timestamp};

    use super::*;
    use crate::MemoryStore;

    fn ask(principal: &str) -> NewSession {
        NewSession { principal: Some(Principal::parse(principal).unwrap()), ..NewSession::default() }
    }

    #[tokio::test]
    async fn every_change_of_state_is_announced_once_and_reads_are_not() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_000_000)));
        let sessions = Sessions::new(Arc::new(MemoryStore::new()), clock);
        let mut events = sessions.events();

        let (alice, token) = sessions.create(ask("alice")).await.unwrap();
        let (bob, _) = sessions.create(ask("bob")).await.unwrap();
        sessions.validate(&token).await.unwrap();
        sessions.patch_attributes(&alice.sid, &serde_json::json!({"a": 1}), None).await.unwrap();
        sessions.rotate(&alice.sid).await.unwrap();
        assert!(sessions.revoke(&alice.sid).await.unwrap());
        assert!(!sessions.revoke(&alice.sid).await.unwrap(), "already revoked");
        assert_eq!(sessions.revoke_principal(&bob.principal, None).await.unwrap(), 1);

        let mut seen = Vec::new();
        while let Ok(event) = events.try_recv() {
            assert_eq!(event.at, Timestamp::from_millis(1_000_000));
            seen.push((event.kind, event.sid, event.principal.as_str().to_owned()));
        }
        use SessionEventKind::*;
        assert_eq!(
            seen,
            [
                (Created, alice.sid, "alice".to_owned()),
                (Created, bob.sid, "bob".to_owned()),
                (Rotated, alice.sid, "alice".to_owned()),
                (Revoked, alice.sid, "alice".to_owned()),
                (Revoked, bob.sid, "bob".to_owned()),
            ]
        );
    }

    #[tokio::test]
    async fn validate_at_decides_at_the_time_it_is_given_not_the_clocks() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_000_000)));
        let sessions = Sessions::new(Arc::new(MemoryStore::new()), Arc::clone(&clock) as Arc<dyn Clock>);
        let (created, token) = sessions.create(ask("alice")).await.unwrap();
        let end = created.expires_at();
        assert!(matches!(
            sessions.validate_at(&token, end).await,
            Err(SessionError::Rejected(Rejection::Expired))
        ));
        let just_before = Timestamp::from_millis(end.as_millis() - 1);
        let touched = sessions.validate_at(&token, just_before).await.expect("live a moment before its end");
        assert_eq!(touched.last_seen_at, just_before, "the touch is dated at the time given");
        assert_eq!(clock.now(), Timestamp::from_millis(1_000_000), "the clock did not move");
    }

    #[tokio::test]
    async fn a_principal_past_its_cap_loses_its_oldest_sessions_and_keeps_the_new_one() {
        let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_000_000)));
        let sessions = Sessions::new(Arc::new(MemoryStore::new()), Arc::clone(&clock) as Arc<dyn Clock>);
        let mut created = Vec::new();
        for _ in 0..4 {
            created.push(sessions.create(ask("carol")).await.unwrap().0);
            clock.advance(std::time::Duration::from_secs(1));
        }
        let (other, _) = sessions.create(ask("dave")).await.unwrap();
        let newest = created[3].sid;
        let principal = created[0].principal.clone();
        assert_eq!(sessions.sign_out_beyond(&principal, 2, &newest).await.unwrap(), 2);
        let left: Vec<_> = sessions.list(&principal).await.unwrap().iter().map(|r| r.sid).collect();
        assert_eq!(left, [created[2].sid, newest], "the two oldest were signed out");
        assert_eq!(sessions.sign_out_beyond(&principal, 2, &newest).await.unwrap(), 0, "within the cap");
        assert_eq!(sessions.list(&other.principal).await.unwrap().len(), 1, "other principals untouched");
        // `keep` stays even if it is the oldest.
        assert_eq!(sessions.sign_out_beyond(&principal, 1, &created[2].sid).await.unwrap(), 1);
        let left: Vec<_> = sessions.list(&principal).await.unwrap().iter().map(|r| r.sid).collect();
        assert_eq!(left, [created[2].sid]);
    }
}
