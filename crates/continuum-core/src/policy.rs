//! [`SessionPolicy`]: the decisions of a session's life — creation, validation with lazy touch,
//! rotation with a grace window, and revocation — as pure functions of a record and a time.

use std::time::Duration;

use serde_json::{Map, Value};

use crate::id::{Secret, Token};
use crate::principal::Principal;
use crate::record::{Device, PreviousSecret, SessionRecord, Status};
use crate::time::Timestamp;

/// Why a token does not open its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// No such session, or the secret does not match (the two are not told apart).
    #[error("the token is not recognised")]
    UnknownToken,
    /// The session passed its idle or absolute deadline.
    #[error("the session has expired")]
    Expired,
    /// The session was revoked.
    #[error("the session has been revoked")]
    Revoked,
    /// A sealed session issued before its principal signed out everywhere (its epoch is not the
    /// principal's current one).
    #[error("the session has been revoked: its user signed out everywhere after it was issued")]
    SignedOutEverywhere,
}

/// Why a session cannot be created as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A timeout outside the configured range.
    #[error("`{field}` must be between {min} and {max} seconds, got {actual}")]
    TimeoutOutOfRange {
        /// The request field.
        field: &'static str,
        /// The smallest value allowed.
        min: u64,
        /// The largest value allowed.
        max: u64,
        /// The value asked for.
        actual: u64,
    },
}

/// What an application asks for when it creates a session.
#[derive(Clone, Debug, Default)]
pub struct NewSession {
    /// The owner; `None` makes an anonymous `anon:<random>` principal.
    pub principal: Option<Principal>,
    /// The device.
    pub device: Device,
    /// Initial attributes.
    pub attributes: Map<String, Value>,
    /// Idle timeout in seconds; the policy's default when `None`.
    pub idle_timeout_secs: Option<u64>,
    /// Absolute lifetime in seconds; the policy's default when `None`.
    pub absolute_timeout_secs: Option<u64>,
}

/// The outcome of a successful validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validation {
    /// `Some(now)` when the touch moves the idle deadline far enough that it must be persisted;
    /// `None` when the stored `last_seen_at` is recent enough (lazy touch).
    pub touch: Option<Timestamp>,
}

/// Timeouts and windows that govern every session of a server.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionPolicy {
    /// Idle timeout when a request names none.
    pub default_idle: Duration,
    /// Absolute lifetime when a request names none.
    pub default_absolute: Duration,
    /// Largest idle timeout a request may ask for.
    pub max_idle: Duration,
    /// Largest absolute lifetime a request may ask for.
    pub max_absolute: Duration,
    /// A validation persists its touch only once this fraction of the idle timeout has passed
    /// since the stored `last_seen_at`, so a busy session costs no write per request.
    pub touch_fraction: f64,
    /// How long a secret replaced by a rotation stays valid, for requests already in flight.
    pub rotation_grace: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            default_idle: Duration::from_secs(30 * 60),
            default_absolute: Duration::from_secs(7 * 24 * 3600),
            max_idle: Duration::from_secs(30 * 24 * 3600),
            // Browsers cap cookie lifetimes at 400 days.
            max_absolute: Duration::from_secs(400 * 24 * 3600),
            touch_fraction: 0.05,
            rotation_grace: Duration::from_secs(10),
        }
    }
}

fn timeout(
    field: &'static str,
    asked: Option<u64>,
    default: Duration,
    max: Duration,
) -> Result<u64, PolicyError> {
    let actual = asked.unwrap_or(default.as_secs());
    if !(1..=max.as_secs()).contains(&actual) {
        return Err(PolicyError::TimeoutOutOfRange { field, min: 1, max: max.as_secs(), actual });
    }
    Ok(actual)
}

impl SessionPolicy {
    /// A new session record (version 1) and the token for it. The token is the only copy of the
    /// secret: hand it to the client and drop it.
    pub fn new_session(
        &self,
        ask: NewSession,
        now: Timestamp,
    ) -> Result<(SessionRecord, Token), PolicyError> {
        let idle = timeout("idle_timeout_secs", ask.idle_timeout_secs, self.default_idle, self.max_idle)?;
        let absolute = timeout(
            "absolute_timeout_secs",
            ask.absolute_timeout_secs,
            self.default_absolute,
            self.max_absolute,
        )?;
        let token = Token::generate();
        let record = SessionRecord {
            sid: token.sid,
            secret_digest: token.secret.digest(),
            previous_secret: None,
            principal: ask.principal.unwrap_or_else(Principal::anonymous),
            device: ask.device,
            created_at: now,
            last_seen_at: now,
            idle_timeout_secs: idle,
            absolute_expires_at: now + Duration::from_secs(absolute),
            attributes: ask.attributes,
            version: 1,
            status: Status::Active,
        };
        Ok((record, token))
    }

    /// Decides whether `secret` opens `record` at `now`, and whether the touch must be written.
    ///
    /// The secret is compared first, in constant time, so the answer for a wrong secret never
    /// depends on the session's state.
    pub fn validate(
        &self,
        record: &SessionRecord,
        secret: &Secret,
        now: Timestamp,
    ) -> Result<Validation, Rejection> {
        let digest = secret.digest();
        let current = record.secret_digest.ct_eq(&digest);
        let previous =
            record.previous_secret.as_ref().is_some_and(|p| p.digest.ct_eq(&digest) && now < p.valid_until);
        if !(current || previous) {
            return Err(Rejection::UnknownToken);
        }
        self.check_live(record, now)?;
        Ok(Validation { touch: self.touch_due(record, now).then_some(now) })
    }

    /// Refuses a revoked or expired session; mutations call this before writing.
    pub fn check_live(&self, record: &SessionRecord, now: Timestamp) -> Result<(), Rejection> {
        match record.status {
            Status::Revoked => Err(Rejection::Revoked),
            Status::Active if record.is_expired(now) => Err(Rejection::Expired),
            Status::Active => Ok(()),
        }
    }

    /// Whether a validation at `now` has moved the idle deadline far enough to persist it.
    pub fn touch_due(&self, record: &SessionRecord, now: Timestamp) -> bool {
        self.touch_due_since(record.last_seen_at, record.idle_timeout(), now)
    }

    /// Whether a session last seen (as recorded) at `last_seen`, with idle timeout `idle`, must
    /// record a touch at `now`: more than [`SessionPolicy::touch_fraction`] of `idle` has passed.
    pub fn touch_due_since(&self, last_seen: Timestamp, idle: Duration, now: Timestamp) -> bool {
        let moved = now.saturating_since(last_seen);
        moved.as_secs_f64() > idle.as_secs_f64() * self.touch_fraction
    }

    /// The record with a new secret (version +1) and the token for it. The replaced secret stays
    /// valid for [`SessionPolicy::rotation_grace`].
    pub fn rotate(
        &self,
        record: &SessionRecord,
        now: Timestamp,
    ) -> Result<(SessionRecord, Token), Rejection> {
        self.check_live(record, now)?;
        let secret = Secret::generate();
        let mut next = record.clone();
        next.previous_secret =
            Some(PreviousSecret { digest: record.secret_digest, valid_until: now + self.rotation_grace });
        next.secret_digest = secret.digest();
        next.last_seen_at = next.last_seen_at.max(now);
        next.version += 1;
        Ok((next, Token { sid: record.sid, secret }))
    }

    /// The record as a tombstone (version +1), or `None` if it is already revoked.
    pub fn revoke(&self, record: &SessionRecord) -> Option<SessionRecord> {
        if record.status == Status::Revoked {
            return None;
        }
        let mut next = record.clone();
        next.status = Status::Revoked;
        next.previous_secret = None;
        next.version += 1;
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp::from_millis(1_000_000_000);

    fn session(policy: &SessionPolicy, idle: u64, absolute: u64) -> (SessionRecord, Token) {
        let ask = NewSession {
            principal: Some(Principal::parse("alice").unwrap()),
            idle_timeout_secs: Some(idle),
            absolute_timeout_secs: Some(absolute),
            ..NewSession::default()
        };
        policy.new_session(ask, T0).unwrap()
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn idle_and_absolute_expiry() {
        let policy = SessionPolicy::default();
        let (mut record, token) = session(&policy, 100, 250);
        assert!(policy.validate(&record, &token.secret, T0 + secs(99)).is_ok());
        assert_eq!(policy.validate(&record, &token.secret, T0 + secs(100)), Err(Rejection::Expired));
        // Keep touching: the idle deadline moves, the absolute one does not.
        record.last_seen_at = T0 + secs(90);
        record.last_seen_at = T0 + secs(180);
        assert!(policy.validate(&record, &token.secret, T0 + secs(249)).is_ok());
        assert_eq!(policy.validate(&record, &token.secret, T0 + secs(250)), Err(Rejection::Expired));
    }

    #[test]
    fn lazy_touch_only_past_the_fraction() {
        let policy = SessionPolicy { touch_fraction: 0.1, ..SessionPolicy::default() };
        let (record, token) = session(&policy, 100, 1000);
        assert_eq!(policy.validate(&record, &token.secret, T0 + secs(10)).unwrap().touch, None);
        let later = T0 + secs(11);
        assert_eq!(policy.validate(&record, &token.secret, later).unwrap().touch, Some(later));
    }

    #[test]
    fn wrong_secret_is_unknown_whatever_the_state() {
        let policy = SessionPolicy::default();
        let (record, _) = session(&policy, 100, 1000);
        let other = Secret::generate();
        assert_eq!(policy.validate(&record, &other, T0), Err(Rejection::UnknownToken));
        let revoked = policy.revoke(&record).unwrap();
        assert_eq!(policy.validate(&revoked, &other, T0), Err(Rejection::UnknownToken));
    }

    #[test]
    fn rotation_keeps_the_old_secret_for_the_grace_window_only() {
        let policy = SessionPolicy { rotation_grace: secs(10), ..SessionPolicy::default() };
        let (record, old) = session(&policy, 100, 1000);
        let (rotated, new) = policy.rotate(&record, T0 + secs(5)).unwrap();
        assert_eq!(rotated.version, record.version + 1);
        assert_eq!(new.sid, old.sid);
        assert!(policy.validate(&rotated, &new.secret, T0 + secs(5)).is_ok());
        assert!(policy.validate(&rotated, &old.secret, T0 + secs(14)).is_ok());
        assert_eq!(policy.validate(&rotated, &old.secret, T0 + secs(15)), Err(Rejection::UnknownToken));
        // A second rotation forgets the first secret at once.
        let (twice, _) = policy.rotate(&rotated, T0 + secs(6)).unwrap();
        assert_eq!(policy.validate(&twice, &old.secret, T0 + secs(6)), Err(Rejection::UnknownToken));
    }

    #[test]
    fn revocation_is_a_versioned_tombstone_and_idempotent() {
        let policy = SessionPolicy::default();
        let (record, token) = session(&policy, 100, 1000);
        let revoked = policy.revoke(&record).unwrap();
        assert_eq!(revoked.status, Status::Revoked);
        assert_eq!(revoked.version, 2);
        assert_eq!(policy.validate(&revoked, &token.secret, T0), Err(Rejection::Revoked));
        assert!(policy.revoke(&revoked).is_none());
        assert_eq!(policy.rotate(&revoked, T0).unwrap_err(), Rejection::Revoked);
    }

    #[test]
    fn timeouts_out_of_range_are_refused() {
        let policy = SessionPolicy::default();
        let ask = |idle, absolute| NewSession {
            idle_timeout_secs: idle,
            absolute_timeout_secs: absolute,
            ..NewSession::default()
        };
        assert!(matches!(
            policy.new_session(ask(Some(0), None), T0),
            Err(PolicyError::TimeoutOutOfRange { field: "idle_timeout_secs", .. })
        ));
        let too_long = policy.max_absolute.as_secs() + 1;
        assert!(matches!(
            policy.new_session(ask(None, Some(too_long)), T0),
            Err(PolicyError::TimeoutOutOfRange { field: "absolute_timeout_secs", .. })
        ));
        let (record, _) = policy.new_session(ask(None, None), T0).unwrap();
        assert!(record.principal.is_anonymous());
        assert_eq!(record.idle_timeout(), policy.default_idle);
    }
}
