//! [`SessionRecord`]: everything a store keeps for one session, and the deadlines derived from it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::id::{SecretDigest, SessionId};
use crate::principal::Principal;
use crate::time::Timestamp;
use std::time::Duration;

/// Whether a session can still be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Usable until it expires.
    Active,
    /// Revoked: kept as a tombstone until its absolute expiry so nothing can bring it back.
    Revoked,
}

/// The device a session was created on, as the application described it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// A name a person recognises, such as "Firefox on a laptop".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The User-Agent header the device sent when the session was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// The digest of the secret that a rotation replaced, accepted until `valid_until`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousSecret {
    /// SHA-256 of the replaced secret.
    pub digest: SecretDigest,
    /// The end of the grace window.
    pub valid_until: Timestamp,
}

/// When a session last seen at `last_seen` ends: the earlier of its idle deadline and its absolute
/// one. The one expiry rule, shared by stored and sealed sessions.
pub fn expiry(last_seen: Timestamp, idle: Duration, absolute_expires_at: Timestamp) -> Timestamp {
    (last_seen + idle).min(absolute_expires_at)
}

/// One session as a store keeps it. Never holds the secret itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The public id.
    pub sid: SessionId,
    /// SHA-256 of the current secret.
    pub secret_digest: SecretDigest,
    /// The secret replaced by the last rotation, while its grace window lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<PreviousSecret>,
    /// Who the session belongs to.
    pub principal: Principal,
    /// The device it was created on.
    pub device: Device,
    /// When it was created.
    pub created_at: Timestamp,
    /// The last validation that was persisted (see lazy touch in [`crate::policy`]).
    pub last_seen_at: Timestamp,
    /// Idle timeout in seconds: the session ends this long after `last_seen_at`.
    pub idle_timeout_secs: u64,
    /// The session ends at this time however active it is.
    pub absolute_expires_at: Timestamp,
    /// Application data, a JSON object.
    pub attributes: Map<String, Value>,
    /// +1 on every write of the session's content; touches do not count (see docs/design.md).
    pub version: u64,
    /// Active or revoked.
    pub status: Status,
}

impl SessionRecord {
    /// The idle timeout as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    /// When the session ends if it is not used again.
    pub fn idle_expires_at(&self) -> Timestamp {
        self.last_seen_at + self.idle_timeout()
    }

    /// When the session ends: the earlier of the idle and the absolute deadline.
    pub fn expires_at(&self) -> Timestamp {
        expiry(self.last_seen_at, self.idle_timeout(), self.absolute_expires_at)
    }

    /// Whether the session has passed its deadline at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at()
    }

    /// Whether the session is active and not expired at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.status == Status::Active && !self.is_expired(now)
    }

    /// When a store may delete the record: at expiry for an active session, at the absolute
    /// expiry for a tombstone, so that a revoked session is remembered for as long as any copy
    /// of it could have been valid.
    pub fn purge_at(&self) -> Timestamp {
        match self.status {
            Status::Active => self.expires_at(),
            Status::Revoked => self.absolute_expires_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::Secret;

    fn record(last_seen: i64, idle: u64, absolute: i64) -> SessionRecord {
        SessionRecord {
            sid: SessionId::generate(),
            secret_digest: Secret::generate().digest(),
            previous_secret: None,
            principal: Principal::parse("alice").unwrap(),
            device: Device::default(),
            created_at: Timestamp::EPOCH,
            last_seen_at: Timestamp::from_millis(last_seen),
            idle_timeout_secs: idle,
            absolute_expires_at: Timestamp::from_millis(absolute),
            attributes: Map::new(),
            version: 1,
            status: Status::Active,
        }
    }

    #[test]
    fn expiry_is_the_earlier_deadline() {
        assert_eq!(record(0, 10, 60_000).expires_at(), Timestamp::from_millis(10_000));
        assert_eq!(record(55_000, 10, 60_000).expires_at(), Timestamp::from_millis(60_000));
        let r = record(0, 10, 60_000);
        assert!(r.is_live(Timestamp::from_millis(9_999)));
        assert!(!r.is_live(Timestamp::from_millis(10_000)));
    }

    #[test]
    fn tombstones_are_purged_at_absolute_expiry() {
        let mut r = record(0, 10, 60_000);
        assert_eq!(r.purge_at(), Timestamp::from_millis(10_000));
        r.status = Status::Revoked;
        assert_eq!(r.purge_at(), Timestamp::from_millis(60_000));
    }

    #[test]
    fn serde_round_trip_keeps_everything() {
        let r = record(5, 10, 60_000);
        let json = serde_json::to_string(&r).unwrap();
        let back: SessionRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }
}
