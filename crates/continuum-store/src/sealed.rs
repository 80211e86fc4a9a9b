//! [`SealedSessions`]: the sealed-cookie strategy as a service — issue a sealed token, validate
//! one without the store (but for the principal's epoch, cached), and sign a principal out
//! everywhere.

use std::sync::Arc;
use std::time::Duration;

use continuum_core::seal::{KeyRing, OpenError, SealError, SealedSession};
use continuum_core::{
    Clock, LimitError, Limits, NewSession, PolicyError, Principal, Rejection, SessionId, SessionPolicy,
};

use crate::denied::DenyCache;
use crate::epochs::{DEFAULT_EPOCH_CAPACITY, DEFAULT_EPOCH_TTL, EpochCache};
use crate::sessions::check_new_session;
use crate::store::{SessionStore, StoreError};

/// Why a sealed-session operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SealedError {
    /// The token is not one this server sealed (malformed, altered, foreign or retired key).
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The token is authentic but its session has ended (expired, or signed out everywhere).
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The session cannot be sealed (past the cookie budget).
    #[error(transparent)]
    Seal(#[from] SealError),
    /// The request asked for something the policy does not allow.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The request was too large.
    #[error(transparent)]
    Limit(#[from] LimitError),
    /// A token given to revoke a session names another session than the one asked for.
    #[error("the token is sealed session {actual}, not {expected}")]
    OtherSession {
        /// The session asked for.
        expected: SessionId,
        /// The session the token holds.
        actual: SessionId,
    },
    /// The store failed (reading or bumping an epoch).
    #[error("the session store failed")]
    Store(#[source] StoreError),
}

impl From<StoreError> for SealedError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// A validated sealed session.
#[derive(Debug, Clone)]
pub struct SealedValidation {
    /// The session, touched if a touch was due.
    pub session: SealedSession,
    /// When a touch was due: the session sealed again with its new last-seen time (under the
    /// ring's current sealing key). The client must replace its token with this one, or its
    /// session ends at the old idle deadline.
    pub resealed: Option<String>,
}

/// Settings of [`SealedSessions`] beyond the key ring and the store.
#[derive(Clone, Debug)]
pub struct SealedConfig {
    /// Timeouts and windows, shared with stored sessions.
    pub policy: SessionPolicy,
    /// Input limits, shared with stored sessions.
    pub limits: Limits,
    /// The cookie that will carry the token: its name counts against the cookie budget.
    pub cookie_name: String,
    /// How long a cached epoch is trusted (see [`EpochCache`]).
    pub epoch_ttl: Duration,
    /// How many principals' epochs are cached at most.
    pub epoch_capacity: usize,
}

impl SealedConfig {
    /// Defaults: the default policy and limits, `__Host-continuum`, a 1 s epoch TTL.
    pub fn new(cookie_name: impl Into<String>) -> Self {
        Self {
            policy: SessionPolicy::default(),
            limits: Limits::default(),
            cookie_name: cookie_name.into(),
            epoch_ttl: DEFAULT_EPOCH_TTL,
            epoch_capacity: DEFAULT_EPOCH_CAPACITY,
        }
    }
}

struct Inner {
    ring: KeyRing,
    epochs: EpochCache,
    denied: DenyCache,
    clock: Arc<dyn Clock>,
    config: SealedConfig,
    /// The principals signed out everywhere by this process, for the other nodes.
    bumped: tokio::sync::broadcast::Sender<Principal>,
}

/// Sealed sessions over a key ring, with epochs kept in a store. Cheap to clone.
#[derive(Clone)]
pub struct SealedSessions {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SealedSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedSessions").field("keys", &self.inner.ring.ids()).finish_non_exhaustive()
    }
}

impl SealedSessions {
    /// The service sealing with `ring`, keeping epochs in `store`, time from `clock`.
    pub fn new(
        ring: KeyRing,
        store: Arc<dyn SessionStore>,
        clock: Arc<dyn Clock>,
        config: SealedConfig,
    ) -> Self {
        let denied =
            DenyCache::new(Arc::clone(&store), Arc::clone(&clock), config.epoch_ttl, config.epoch_capacity);
        let epochs = EpochCache::new(store, Arc::clone(&clock), config.epoch_ttl, config.epoch_capacity);
        let bumped = tokio::sync::broadcast::channel(crate::sessions::EVENTS_CAPACITY).0;
        Self { inner: Arc::new(Inner { ring, epochs, denied, clock, config, bumped }) }
    }

    /// The key ring.
    pub fn ring(&self) -> &KeyRing {
        &self.inner.ring
    }

    /// The epoch cache.
    pub fn epochs(&self) -> &EpochCache {
        &self.inner.epochs
    }

    /// Issues a sealed session: the limits and policy of a stored one, the principal's epoch
    /// read from the store (not the cache: issuing is not the hot path, and a token must not be
    /// born stale). Nothing is written.
    pub async fn create(&self, ask: NewSession) -> Result<(SealedSession, String), SealedError> {
        let config = &self.inner.config;
        check_new_session(&config.limits, &ask)?;
        // A principal made up for this session has never signed out anywhere.
        let epoch = match &ask.principal {
            Some(principal) => self.inner.epochs.refresh(principal).await?,
            None => 0,
        };
        let session = SealedSession::issue(&config.policy, ask, epoch, self.inner.clock.now())?;
        let token = self.inner.ring.seal(&session, &config.cookie_name)?;
        Ok((session, token))
    }

    /// The hot path: opens `token`, checks expiry (from the token alone), then the principal's
    /// epoch (cached), and re-seals when a touch is due. A token whose epoch is *newer* than the
    /// cached one (issued after a bump this node has not seen yet) makes the cache read the
    /// store once before deciding.
    pub async fn validate(&self, token: &str) -> Result<SealedValidation, SealedError> {
        let session = self.inner.ring.open(token)?;
        let now = self.inner.clock.now();
        if session.is_expired(now) {
            return Err(Rejection::Expired.into());
        }
        let epochs = &self.inner.epochs;
        let mut current = epochs.epoch(&session.principal).await?;
        if session.epoch > current {
            current = epochs.refresh(&session.principal).await?;
        }
        let check = session.check(&self.inner.config.policy, current, now)?;
        if self.inner.denied.is_denied(&session.sid).await? {
            return Err(Rejection::Revoked.into());
        }
        let Some(at) = check.touch else { return Ok(SealedValidation { session, resealed: None }) };
        let touched = session.touched(at);
        let resealed = self.inner.ring.seal(&touched, &self.inner.config.cookie_name)?;
        Ok(SealedValidation { session: touched, resealed: Some(resealed) })
    }

    /// Revokes the one sealed session `token` holds, which must be session `sid`: writes its
    /// deny entry (durably, in the store, kept until the session's absolute expiry), so this node
    /// refuses the token and its copies at once and other nodes within the TTL. The token must
    /// be authentic; an expired one needs nothing (`Ok(false)`), as does one denied already.
    pub async fn revoke(&self, sid: &SessionId, token: &str) -> Result<bool, SealedError> {
        let session = self.inner.ring.open(token)?;
        if session.sid != *sid {
            return Err(SealedError::OtherSession { expected: *sid, actual: session.sid });
        }
        if session.is_expired(self.inner.clock.now()) {
            return Ok(false);
        }
        Ok(self.inner.denied.deny(session.deny_record()).await?)
    }

    /// Signs the principal out everywhere for sealed tokens: bumps its epoch (durably, in the
    /// store) and returns the new one. This node refuses the older tokens at once, other nodes
    /// within their epoch TTL.
    pub async fn sign_out_everywhere(&self, principal: &Principal) -> Result<u64, SealedError> {
        let epoch = self.inner.epochs.bump(principal).await?;
        // No subscriber is not an error.
        let _ = self.inner.bumped.send(principal.clone());
        Ok(epoch)
    }

    /// The principals this process signs out everywhere from now on, so a bus can tell the
    /// other nodes to drop their cached epochs at once rather than within their TTL.
    pub fn signed_out(&self) -> tokio::sync::broadcast::Receiver<Principal> {
        self.inner.bumped.subscribe()
    }

    /// Forgets the cached epoch of `principal`: for the cross-node event bus, when another node
    /// reports that the principal signed out everywhere.
    pub fn invalidate(&self, principal: &Principal) {
        self.inner.epochs.invalidate(principal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;
    use continuum_core::seal::{KeyRing, SealKey};
    use continuum_core::{Device, ManualClock, Timestamp};
    use serde_json::json;

    const START: Timestamp = Timestamp::from_millis(1_800_000_000_000);

    fn service(ring: KeyRing, store: Arc<MemoryStore>, clock: &ManualClock) -> SealedSessions {
        let mut config = SealedConfig::new("__Host-continuum");
        config.policy.touch_fraction = 0.1;
        SealedSessions::new(ring, store, Arc::new(clock.clone()), config)
    }

    fn ask(principal: &str, idle: u64) -> NewSession {
        NewSession {
            principal: Some(Principal::parse(principal).unwrap()),
            device: Device { label: Some("laptop".into()), user_agent: None },
            attributes: json!({"theme": "dark"}).as_object().cloned().unwrap(),
            idle_timeout_secs: Some(idle),
            absolute_timeout_secs: Some(3600),
        }
    }

    fn ring() -> KeyRing {
        KeyRing::new(vec![SealKey::generate()]).unwrap()
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[tokio::test]
    async fn validate_needs_no_session_in_the_store_and_reseals_when_a_touch_is_due() {
        let store = Arc::new(MemoryStore::new());
        let clock = ManualClock::new(START);
        let sealed = service(ring(), Arc::clone(&store), &clock);
        let (session, token) = sealed.create(ask("alice", 100)).await.unwrap();
        assert_eq!(store.count().await.unwrap(), 0, "nothing stored");
        let validated = sealed.validate(&token).await.unwrap();
        assert_eq!(validated.session, session);
        assert!(validated.resealed.is_none(), "no touch due yet");
        clock.advance(secs(60));
        let validated = sealed.validate(&token).await.unwrap();
        let resealed = validated.resealed.expect("a touch is due: a new token");
        assert_eq!(validated.session.last_seen_at, START + secs(60));
        // The old token dies at the old idle deadline; the new one lives on.
        clock.advance(secs(50));
        assert!(matches!(sealed.validate(&token).await, Err(SealedError::Rejected(Rejection::Expired))));
        sealed.validate(&resealed).await.expect("the re-sealed token carries the touch");
    }

    #[tokio::test]
    async fn signing_out_everywhere_kills_older_tokens_on_this_node_at_once_and_elsewhere_within_the_ttl() {
        let store = Arc::new(MemoryStore::new());
        let clock = ManualClock::new(START);
        let keys = ring();
        let here = service(keys.clone(), Arc::clone(&store), &clock);
        let there = service(keys, Arc::clone(&store), &clock);
        let (_, token) = here.create(ask("alice", 600)).await.unwrap();
        let (_, bob) = here.create(ask("bob", 600)).await.unwrap();
        there.validate(&token).await.expect("valid on the other node");
        assert_eq!(here.sign_out_everywhere(&Principal::parse("alice").unwrap()).await.unwrap(), 1);
        assert!(matches!(
            here.validate(&token).await,
            Err(SealedError::Rejected(Rejection::SignedOutEverywhere))
        ));
        there.validate(&token).await.expect("the other node's cache is still fresh");
        clock.advance(secs(1));
        assert!(matches!(there.validate(&token).await, Err(SealedError::Rejected(_))), "TTL passed");
        here.validate(&bob).await.expect("other principals are untouched");
        // A token issued after the bump is good, even on a node whose cache lags.
        let (_, fresh) = here.create(ask("alice", 600)).await.unwrap();
        there.validate(&bob).await.expect("bob's epoch is now cached on the other node");
        store.bump_principal_epoch(&Principal::parse("bob").unwrap()).await.unwrap();
        there.validate(&fresh).await.expect("new epoch");
        there.validate(&bob).await.expect("the bump is not seen yet: cached");
        there.invalidate(&Principal::parse("bob").unwrap());
        assert!(there.validate(&bob).await.is_err(), "invalidate makes the next validation read the store");
    }

    #[tokio::test]
    async fn tokens_of_another_ring_and_oversize_sessions_are_refused() {
        let store = Arc::new(MemoryStore::new());
        let clock = ManualClock::new(START);
        let one = service(ring(), Arc::clone(&store), &clock);
        let two = service(ring(), Arc::clone(&store), &clock);
        let (_, token) = one.create(ask("alice", 600)).await.unwrap();
        assert!(matches!(two.validate(&token).await, Err(SealedError::Open(OpenError::UnknownKey(_)))));
        let mut big = ask("alice", 600);
        for i in 0..4 {
            big.attributes.insert(format!("k{i}"), json!("x".repeat(1500)));
        }
        assert!(matches!(one.create(big).await, Err(SealedError::Seal(SealError::CookieTooLarge { .. }))));
        let mut huge = ask("alice", 600);
        huge.attributes.insert("k".into(), json!("x".repeat(20_000)));
        assert!(matches!(one.create(huge).await, Err(SealedError::Limit(_))));
    }

    #[tokio::test]
    async fn revoking_one_sealed_session_kills_it_and_its_copies_here_at_once_and_elsewhere_within_the_ttl() {
        let store = Arc::new(MemoryStore::new());
        let clock = ManualClock::new(START);
        let keys = ring();
        let here = service(keys.clone(), Arc::clone(&store), &clock);
        let there = service(keys, Arc::clone(&store), &clock);
        let (session, token) = here.create(ask("alice", 600)).await.unwrap();
        let (other, other_token) = here.create(ask("alice", 600)).await.unwrap();
        clock.advance(secs(61));
        let copy = here.validate(&token).await.unwrap().resealed.expect("a touched copy");
        there.validate(&token).await.expect("valid on the other node, now cached there");

        let wrong = here.revoke(&other.sid, &token).await.unwrap_err();
        assert!(matches!(wrong, SealedError::OtherSession { .. }), "{wrong:?}");
        assert!(here.revoke(&session.sid, &token).await.unwrap(), "a new deny entry");
        assert!(!here.revoke(&session.sid, &copy).await.unwrap(), "denied already");
        for token in [&token, &copy] {
            assert!(matches!(here.validate(token).await, Err(SealedError::Rejected(Rejection::Revoked))));
        }
        here.validate(&other_token).await.expect("the principal's other sessions live on");
        there.validate(&token).await.expect("the other node trusts its cache for the TTL");
        clock.advance(secs(1));
        assert!(matches!(there.validate(&copy).await, Err(SealedError::Rejected(Rejection::Revoked))));
        let denied = store.get(&session.sid).await.unwrap().expect("the deny entry is stored");
        assert_eq!(denied.purge_at(), session.absolute_expires_at, "kept until the token's expiry");
        assert!(denied.attributes.is_empty() && denied.device.label.is_none(), "it keeps nothing personal");
        assert!(matches!(here.revoke(&session.sid, "cs~forged").await, Err(SealedError::Open(_))));
    }
}
