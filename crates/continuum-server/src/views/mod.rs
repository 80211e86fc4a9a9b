//! The JSON shapes the API sends and receives, with their OpenAPI schemas.
//!
//! [`session_json`] writes the hot path's `{"session": …}` by hand from a [`SessionView`]; it
//! builds on these types, which do not know it.

use continuum_core::{Device, Principal, SealedSession, SessionId, SessionRecord, Status, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The device a session is on.
#[derive(Serialize, Deserialize, ToSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct DeviceView {
    /// A name a person recognises.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The device's User-Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

/// A time in an answer: RFC 3339, written straight into the response without an intermediate
/// string.
#[derive(Debug, Clone, Copy)]
pub struct Rfc3339(pub Timestamp);

impl Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// A session as the API shows it. Never holds the secret.
#[derive(Serialize, ToSchema, Debug)]
pub struct SessionView<'a> {
    /// The public id.
    #[schema(value_type = String)]
    pub sid: SessionId,
    /// Who it belongs to.
    #[schema(value_type = String)]
    pub principal: &'a Principal,
    /// The device.
    #[schema(value_type = DeviceView)]
    pub device: &'a Device,
    /// RFC 3339.
    #[schema(value_type = String)]
    pub created_at: Rfc3339,
    /// RFC 3339: the last touch that was persisted.
    #[schema(value_type = String)]
    pub last_seen_at: Rfc3339,
    /// RFC 3339: when the session ends unless used again.
    #[schema(value_type = String)]
    pub expires_at: Rfc3339,
    /// The idle timeout.
    pub idle_timeout_secs: u64,
    /// RFC 3339: when the session ends however active.
    #[schema(value_type = String)]
    pub absolute_expires_at: Rfc3339,
    /// Application data.
    #[schema(value_type = Object)]
    pub attributes: &'a Map<String, Value>,
    /// +1 on every write of the session's content; use it in `If-Match`.
    pub version: u64,
    /// `active`, `expired` (not yet purged) or `revoked`.
    pub status: &'static str,
    /// Present and `true` for a sealed session: it lives only in its token, nothing is stored,
    /// `version` is 0, and it cannot be read, patched, rotated or revoked by id (signing its
    /// principal out everywhere ends it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sealed: bool,
}

impl<'a> SessionView<'a> {
    /// The view of `record` at `now`.
    pub fn new(record: &'a SessionRecord, now: Timestamp) -> Self {
        let status = match record.status {
            Status::Revoked => "revoked",
            Status::Active if record.is_expired(now) => "expired",
            Status::Active => "active",
        };
        Self {
            sid: record.sid,
            principal: &record.principal,
            device: &record.device,
            created_at: Rfc3339(record.created_at),
            last_seen_at: Rfc3339(record.last_seen_at),
            expires_at: Rfc3339(record.expires_at()),
            idle_timeout_secs: record.idle_timeout_secs,
            absolute_expires_at: Rfc3339(record.absolute_expires_at),
            attributes: &record.attributes,
            version: record.version,
            status,
            sealed: false,
        }
    }

    /// The view of a sealed session at `now`.
    pub fn sealed(session: &'a SealedSession, now: Timestamp) -> Self {
        Self {
            sid: session.sid,
            principal: &session.principal,
            device: &session.device,
            created_at: Rfc3339(session.created_at),
            last_seen_at: Rfc3339(session.last_seen_at),
            expires_at: Rfc3339(session.expires_at()),
            idle_timeout_secs: session.idle_timeout_secs,
            absolute_expires_at: Rfc3339(session.absolute_expires_at),
            attributes: &session.attributes,
            version: 0,
            status: if session.is_expired(now) { "expired" } else { "active" },
            sealed: true,
        }
    }
}

/// `{"session": ...}`.
#[derive(Serialize, ToSchema, Debug)]
pub struct SessionEnvelope<'a> {
    /// The session.
    pub session: SessionView<'a>,
}

/// `{"session": ..., "token"?: ...}`: a validated session.
#[derive(Serialize, ToSchema, Debug)]
pub struct ValidatedSession<'a> {
    /// The session.
    pub session: SessionView<'a>,
    /// Only for a sealed token whose touch was due: the session sealed again with its new
    /// last-seen time. Replace the client's token (its cookie) with it; the old one still ends at
    /// the old idle deadline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// `{"token": ..., "session": ...}`: an answer that issues a token.
#[derive(Serialize, ToSchema, Debug)]
pub struct IssuedSession<'a> {
    /// `<sid>.<secret>`, or a sealed `cs~…` token when `sealed` was asked for; shown once.
    pub token: String,
    /// The session.
    pub session: SessionView<'a>,
}

/// `{"sessions": [...]}`.
#[derive(Serialize, ToSchema, Debug)]
pub struct SessionList<'a> {
    /// The sessions, oldest first.
    pub sessions: Vec<SessionView<'a>>,
}

/// The client's devices: its own session id and every live session of its principal.
#[derive(Serialize, ToSchema, Debug)]
pub struct DeviceList<'a> {
    /// The sid of the session asking.
    #[schema(value_type = String)]
    pub current: SessionId,
    /// The live sessions of the principal, oldest first.
    pub sessions: Vec<SessionView<'a>>,
}

/// `{"revoked": n, "epoch": e}`.
#[derive(Serialize, ToSchema, Debug)]
pub struct RevokedCount {
    /// How many stored sessions were revoked.
    pub revoked: usize,
    /// The principal's new epoch: every sealed token issued before carries an older one and is
    /// refused (on other nodes within their epoch cache's TTL, 1 s by default).
    pub epoch: u64,
}

/// `POST /v1/sessions`.
#[derive(Deserialize, ToSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    /// The owner; omitted for an anonymous session.
    pub principal: Option<String>,
    /// The device.
    pub device: Option<DeviceView>,
    /// Initial attributes.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<Map<String, Value>>,
    /// Idle timeout in seconds.
    pub idle_timeout_secs: Option<u64>,
    /// Absolute lifetime in seconds.
    pub absolute_timeout_secs: Option<u64>,
    /// `true`: issue a sealed token (`cs~…`) that carries the session itself, encrypted; nothing
    /// is stored. Refused (422) when the token would not fit a 4096-byte cookie.
    pub sealed: Option<bool>,
}

/// `POST /v1/sessions/validate`.
#[derive(Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct ValidateRequest {
    /// The token to check: `<sid>.<secret>` or a sealed `cs~…` token.
    pub token: String,
}

/// `DELETE /v1/principals/{principal}/sessions?except=<sid>`.
#[derive(Deserialize, ToSchema, Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RevokeAllQuery {
    /// A session to keep, typically the caller's own.
    pub except: Option<String>,
}

pub mod session_json;
