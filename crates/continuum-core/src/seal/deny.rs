//! The deny entry that revokes one sealed session before its expiry: a stored tombstone under
//! the sealed session's sid, kept (like every tombstone) until the session's absolute expiry,
//! after which the token is refused as expired anyway.
//!
//! A tombstone rather than a new kind of record: every store already keeps, sweeps, replicates
//! and conformance-tests tombstones, so the deny list needs no new store primitive.

use serde_json::Map;

use crate::id::Secret;
use crate::record::{SessionRecord, Status};
use crate::seal::session::SealedSession;

impl SealedSession {
    /// The tombstone denying this session: its sid, principal and deadlines, status revoked,
    /// and the digest of a secret nobody holds (a stored token can never match it). No
    /// attributes or device: the deny entry keeps nothing the token carries but what it needs.
    pub fn deny_record(&self) -> SessionRecord {
        SessionRecord {
            sid: self.sid,
            secret_digest: Secret::generate().digest(),
            previous_secret: None,
            principal: self.principal.clone(),
            device: Default::default(),
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            idle_timeout_secs: self.idle_timeout_secs,
            absolute_expires_at: self.absolute_expires_at,
            attributes: Map::new(),
            version: 1,
            status: Status::Revoked,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::policy::{NewSession, Rejection, SessionPolicy};
    use crate::record::Status;
    use crate::seal::session::SealedSession;
    use crate::time::Timestamp;

    #[test]
    fn the_deny_entry_lives_until_the_absolute_expiry_and_opens_nothing() {
        let policy = SessionPolicy::default();
        let now = Timestamp::from_millis(1_800_000_000_000);
        let session = SealedSession::issue(&policy, NewSession::default(), 0, now).unwrap();
        let denied = session.deny_record();
        assert_eq!((denied.sid, denied.status), (session.sid, Status::Revoked));
        assert_eq!(denied.purge_at(), session.absolute_expires_at, "kept until the token's expiry");
        let (_, token) = policy.new_session(NewSession::default(), now).unwrap();
        assert_eq!(policy.validate(&denied, &token.secret, now), Err(Rejection::UnknownToken));
    }
}
