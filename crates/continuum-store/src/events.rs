//! [`SessionEvent`]: what happened to a session, as [`crate::Sessions`] announces it — created,
//! rotated, revoked, expired — with the session id and principal and never a secret.
//!
//! [`Sessions::events`](crate::Sessions::events) hands out receivers of the events of this
//! process; the server forwards them to the other nodes (see [`crate::bus`]) and to its
//! `/v1/events` stream.

use std::fmt;
use std::str::FromStr;

use continuum_core::{Principal, SessionId, Timestamp};

/// What happened to a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionEventKind {
    /// The session was created.
    Created,
    /// The session's secret was rotated; the old one works for the grace window only.
    Rotated,
    /// The session was revoked (logout, device revoked, "log out everywhere").
    Revoked,
    /// The session passed its idle or absolute expiry and was purged from the store.
    Expired,
}

impl SessionEventKind {
    /// Every kind, in lifecycle order.
    pub const ALL: [SessionEventKind; 4] = [Self::Created, Self::Rotated, Self::Revoked, Self::Expired];

    /// The kind's name on the wire: `created`, `rotated`, `revoked`, `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Rotated => "rotated",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }

    /// Whether the session can no longer be used after this event.
    pub fn ends_session(self) -> bool {
        matches!(self, Self::Revoked | Self::Expired)
    }
}

impl fmt::Display for SessionEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a [`SessionEventKind`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown session event kind {0:?}")]
pub struct UnknownKind(pub String);

impl FromStr for SessionEventKind {
    type Err = UnknownKind;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text).ok_or_else(|| UnknownKind(text.to_owned()))
    }
}

/// One thing that happened to one session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionEvent {
    /// What happened.
    pub kind: SessionEventKind,
    /// The session.
    pub sid: SessionId,
    /// Whose session it is.
    pub principal: Principal,
    /// When it happened, by the clock of the node that saw it.
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in SessionEventKind::ALL {
            assert_eq!(kind.as_str().parse::<SessionEventKind>(), Ok(kind));
        }
        assert_eq!("deleted".parse::<SessionEventKind>(), Err(UnknownKind("deleted".into())));
        let ending: Vec<_> = SessionEventKind::ALL.into_iter().filter(|kind| kind.ends_session()).collect();
        assert_eq!(ending, [SessionEventKind::Revoked, SessionEventKind::Expired]);
    }
}
