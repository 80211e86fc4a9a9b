//! The JSON shapes the API sends and receives, with their OpenAPI schemas.

use continuum_core::{SessionRecord, Status, Timestamp};
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

/// A session as the API shows it. Never holds the secret.
#[derive(Serialize, ToSchema, Debug)]
pub struct SessionView {
    /// The public id.
    pub sid: String,
    /// Who it belongs to.
    pub principal: String,
    /// The device.
    pub device: DeviceView,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339: the last touch that was persisted.
    pub last_seen_at: String,
    /// RFC 3339: when the session ends unless used again.
    pub expires_at: String,
    /// The idle timeout.
    pub idle_timeout_secs: u64,
    /// RFC 3339: when the session ends however active.
    pub absolute_expires_at: String,
    /// Application data.
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    /// +1 on every write of the session's content; use it in `If-Match`.
    pub version: u64,
    /// `active`, `expired` (not yet purged) or `revoked`.
    pub status: &'static str,
}

impl SessionView {
    /// The view of `record` at `now`.
    pub fn new(record: &SessionRecord, now: Timestamp) -> Self {
        let status = match record.status {
            Status::Revoked => "revoked",
            Status::Active if record.is_expired(now) => "expired",
            Status::Active => "active",
        };
        Self {
            sid: record.sid.to_string(),
            principal: record.principal.to_string(),
            device: DeviceView {
                label: record.device.label.clone(),
                user_agent: record.device.user_agent.clone(),
            },
            created_at: record.created_at.to_rfc3339(),
            last_seen_at: record.last_seen_at.to_rfc3339(),
            expires_at: record.expires_at().to_rfc3339(),
            idle_timeout_secs: record.idle_timeout_secs,
            absolute_expires_at: record.absolute_expires_at.to_rfc3339(),
            attributes: record.attributes.clone(),
            version: record.version,
            status,
        }
    }
}

/// `{"session": ...}`.
#[derive(Serialize, ToSchema, Debug)]
pub struct SessionEnvelope {
    /// The session.
    pub session: SessionView,
}

/// `{"token": ..., "session": ...}`: the only answer that ever carries a token.
#[derive(Serialize, ToSchema, Debug)]
pub struct IssuedSession {
    /// `<sid>.<secret>`; shown once.
    pub token: String,
    /// The session.
    pub session: SessionView,
}

/// `{"sessions": [...]}`.
#[derive(Serialize, ToSchema, Debug)]
pub struct SessionList {
    /// The sessions, oldest first.
    pub sessions: Vec<SessionView>,
}

/// The client's devices: its own session id and every live session of its principal.
#[derive(Serialize, ToSchema, Debug)]
pub struct DeviceList {
    /// The sid of the session asking.
    pub current: String,
    /// The live sessions of the principal, oldest first.
    pub sessions: Vec<SessionView>,
}

/// `{"revoked": n}`.
#[derive(Serialize, ToSchema, Debug)]
pub struct RevokedCount {
    /// How many sessions were revoked.
    pub revoked: usize,
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
}

/// `POST /v1/sessions/validate`.
#[derive(Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct ValidateRequest {
    /// The token to check.
    pub token: String,
}

/// `DELETE /v1/principals/{principal}/sessions?except=<sid>`.
#[derive(Deserialize, ToSchema, Debug, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RevokeAllQuery {
    /// A session to keep, typically the caller's own.
    pub except: Option<String>,
}
