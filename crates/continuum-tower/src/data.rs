//! [`SessionData`]: what the app sees of the current session, whichever mode validated it.

use continuum_core::SealedSession;
use serde::Deserialize;
use serde_json::{Map, Value};

/// A validated session: the fields of the server's session view the app needs.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct SessionData {
    /// The public session id (safe in logs; never the secret).
    pub sid: String,
    /// Who it belongs to (`anon:…` for an anonymous session).
    pub principal: String,
    /// Application data.
    #[serde(default)]
    pub attributes: Map<String, Value>,
    /// When it was created, RFC 3339.
    #[serde(default)]
    pub created_at: String,
    /// The device it was created on: its label, else its user agent, if known.
    #[serde(default, deserialize_with = "device_name")]
    pub device: Option<String>,
    /// Whether the session lives only in its (sealed) token.
    #[serde(default)]
    pub sealed: bool,
}

fn device_name<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Device {
        label: Option<String>,
        user_agent: Option<String>,
    }
    let device = Option::<Device>::deserialize(deserializer)?;
    Ok(device.and_then(|d| d.label.or(d.user_agent)))
}

impl From<&SealedSession> for SessionData {
    fn from(session: &SealedSession) -> Self {
        Self {
            sid: session.sid.to_string(),
            principal: session.principal.as_str().to_owned(),
            attributes: session.attributes.clone(),
            created_at: session.created_at.to_rfc3339(),
            device: session.device.label.clone().or_else(|| session.device.user_agent.clone()),
            sealed: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_servers_session_view() {
        let view = serde_json::json!({"sid": "s", "principal": "alice", "device": {"user_agent": "curl"},
            "attributes": {"n": 1}, "created_at": "2026-01-01T00:00:00Z", "version": 3, "status": "active"});
        let data: SessionData = serde_json::from_value(view).unwrap();
        assert_eq!(data.device.as_deref(), Some("curl"));
        assert_eq!(data.attributes["n"], 1);
        assert!(!data.sealed);
    }
}
