//! [`SealedSession`]: what a sealed token carries, and the rules applied to it on every request —
//! the same expiry and lazy-touch rules as a stored session, plus the principal's epoch.
//!
//! # Idle expiry without a store
//! The payload carries `last_seen_at`. A validation computes expiry from it exactly as for a
//! stored session (`min(last_seen + idle, absolute)`), and when [`SessionPolicy::touch_due_since`]
//! says a touch is due, the caller seals the touched session again and hands the new token to
//! the client. A client that keeps its old token (or a copy on another tab) still holds a token
//! valid until the old idle deadline: idle expiry of a sealed session is "idle since the newest
//! token the client kept", and old copies cannot be recalled — only the epoch revokes them.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::id::SessionId;
use crate::policy::{NewSession, PolicyError, Rejection, SessionPolicy};
use crate::principal::Principal;
use crate::record::{Device, expiry};
use crate::time::Timestamp;

/// The session inside a sealed token. Field names are one letter on the wire: every byte is sent
/// with every request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SealedSession {
    /// The session's id: names it in logs and answers; looks nothing up.
    #[serde(rename = "s")]
    pub sid: SessionId,
    /// Who it belongs to.
    #[serde(rename = "p")]
    pub principal: Principal,
    /// The device it was created on.
    #[serde(rename = "d", default, skip_serializing_if = "is_default_device")]
    pub device: Device,
    /// Application data, a JSON object.
    #[serde(rename = "a", default, skip_serializing_if = "Map::is_empty")]
    pub attributes: Map<String, Value>,
    /// When it was created.
    #[serde(rename = "c")]
    pub created_at: Timestamp,
    /// When it was last touched (see the module documentation).
    #[serde(rename = "l")]
    pub last_seen_at: Timestamp,
    /// Idle timeout in seconds.
    #[serde(rename = "i")]
    pub idle_timeout_secs: u64,
    /// The session ends at this time however active it is.
    #[serde(rename = "x")]
    pub absolute_expires_at: Timestamp,
    /// The principal's epoch when the token was issued; it must still be the current one.
    #[serde(rename = "e")]
    pub epoch: u64,
}

fn is_default_device(device: &Device) -> bool {
    device.label.is_none() && device.user_agent.is_none()
}

/// The outcome of a successful check of a sealed session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealedCheck {
    /// `Some(now)` when a touch is due: seal [`SealedSession::touched`] again and hand the client
    /// the new token.
    pub touch: Option<Timestamp>,
}

impl SealedSession {
    /// A new session for `ask` at `now`, at the principal's current `epoch`, with the timeouts
    /// and anonymous principals of `policy` — the same rules as a stored session.
    pub fn issue(
        policy: &SessionPolicy,
        ask: NewSession,
        epoch: u64,
        now: Timestamp,
    ) -> Result<Self, PolicyError> {
        // The stored form's rules decide; its token is not needed and is dropped.
        let (record, _) = policy.new_session(ask, now)?;
        Ok(Self {
            sid: record.sid,
            principal: record.principal,
            device: record.device,
            attributes: record.attributes,
            created_at: record.created_at,
            last_seen_at: record.last_seen_at,
            idle_timeout_secs: record.idle_timeout_secs,
            absolute_expires_at: record.absolute_expires_at,
            epoch,
        })
    }

    /// The idle timeout as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    /// When the session ends unless touched: the earlier of the idle and absolute deadlines.
    pub fn expires_at(&self) -> Timestamp {
        expiry(self.last_seen_at, self.idle_timeout(), self.absolute_expires_at)
    }

    /// Whether it has passed its deadline at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at()
    }

    /// Decides whether the session is good at `now` for a principal whose epoch is
    /// `current_epoch`, and whether a touch is due. Expiry is checked first: it needs nothing
    /// but the token.
    pub fn check(
        &self,
        policy: &SessionPolicy,
        current_epoch: u64,
        now: Timestamp,
    ) -> Result<SealedCheck, Rejection> {
        if self.is_expired(now) {
            return Err(Rejection::Expired);
        }
        if self.epoch != current_epoch {
            return Err(Rejection::SignedOutEverywhere);
        }
        let due = policy.touch_due_since(self.last_seen_at, self.idle_timeout(), now);
        Ok(SealedCheck { touch: due.then_some(now) })
    }

    /// The session touched at `at` (never moved backwards), to seal again.
    pub fn touched(&self, at: Timestamp) -> Self {
        Self { last_seen_at: self.last_seen_at.max(at), ..self.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp::from_millis(1_000_000_000);

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn session(policy: &SessionPolicy, idle: u64, absolute: u64, epoch: u64) -> SealedSession {
        let ask = NewSession {
            principal: Some(Principal::parse("alice").unwrap()),
            idle_timeout_secs: Some(idle),
            absolute_timeout_secs: Some(absolute),
            ..NewSession::default()
        };
        SealedSession::issue(policy, ask, epoch, T0).unwrap()
    }

    #[test]
    fn idle_and_absolute_expiry_follow_the_stored_rules() {
        let policy = SessionPolicy::default();
        let s = session(&policy, 100, 250, 0);
        assert!(s.check(&policy, 0, T0 + secs(99)).is_ok());
        assert_eq!(s.check(&policy, 0, T0 + secs(100)), Err(Rejection::Expired));
        let touched = s.touched(T0 + secs(90)).touched(T0 + secs(180));
        assert!(touched.check(&policy, 0, T0 + secs(249)).is_ok());
        assert_eq!(touched.check(&policy, 0, T0 + secs(250)), Err(Rejection::Expired));
        assert_eq!(touched.touched(T0).last_seen_at, T0 + secs(180), "never backwards");
    }

    #[test]
    fn the_epoch_must_match() {
        let policy = SessionPolicy::default();
        let s = session(&policy, 100, 1000, 3);
        assert!(s.check(&policy, 3, T0).is_ok());
        assert_eq!(s.check(&policy, 4, T0), Err(Rejection::SignedOutEverywhere));
        assert_eq!(s.check(&policy, 2, T0), Err(Rejection::SignedOutEverywhere));
        assert_eq!(s.check(&policy, 4, T0 + secs(100)), Err(Rejection::Expired), "expiry first");
    }

    #[test]
    fn touch_is_lazy() {
        let policy = SessionPolicy { touch_fraction: 0.1, ..SessionPolicy::default() };
        let s = session(&policy, 100, 1000, 0);
        assert_eq!(s.check(&policy, 0, T0 + secs(10)).unwrap().touch, None);
        assert_eq!(s.check(&policy, 0, T0 + secs(11)).unwrap().touch, Some(T0 + secs(11)));
    }

    #[test]
    fn issue_applies_the_policy() {
        let policy = SessionPolicy::default();
        let ask = NewSession { idle_timeout_secs: Some(0), ..NewSession::default() };
        assert!(SealedSession::issue(&policy, ask, 0, T0).is_err());
        let anonymous = SealedSession::issue(&policy, NewSession::default(), 0, T0).unwrap();
        assert!(anonymous.principal.is_anonymous());
        assert_eq!(anonymous.idle_timeout(), policy.default_idle);
    }
}
