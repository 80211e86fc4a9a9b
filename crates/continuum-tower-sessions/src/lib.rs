//! [`ContinuumStore`]: tower-sessions' `SessionStore` backed by a Continuum server, so an app
//! on tower-sessions moves its sessions to Continuum by changing one line:
//!
//! ```ignore
//! let layer = SessionManagerLayer::new(ContinuumStore::new("http://127.0.0.1:7878", api_key));
//! ```
//!
//! # Mapping
//! tower-sessions picks its own session id (an `i128`, in its cookie) and Continuum picks its
//! own (`sid` and secret), so a tower-sessions id is mapped to a Continuum *principal*:
//! `tower-sessions:<id>` (the id's base64 text). That principal holds at most one live
//! Continuum session, whose attribute `tower_sessions` is `{"data": <the record's data, a JSON
//! object>, "expiry": <the record's expiry, Unix seconds>}`.
//!
//! - `create`: a new Continuum session for the principal (a fresh id on the rare collision),
//!   with idle and absolute timeouts set to the record's remaining lifetime (idle capped at
//!   Continuum's 30-day maximum).
//! - `save`: a new Continuum session with the new record, then every other session of the
//!   principal revoked. Saving whole records this way is exact (a JSON merge patch could not
//!   remove nested keys) and lets a save move the expiry later, which a Continuum session's
//!   absolute deadline cannot. Between the two calls `load` sees the newest.
//! - `load`: the principal's newest live session, `None` if none or past the record's expiry.
//! - `delete`: every session of the principal revoked (and its sealed tokens, if any, through
//!   the epoch).
//!
//! Because tower-sessions' ids are principals, Continuum's "list a user's devices" and "sign
//! out everywhere" see tower-sessions ids, not users. Apps that want those should use
//! `continuum-tower` instead. Errors reach tower-sessions as strings: its `Error::Backend`
//! takes nothing else.

use async_trait::async_trait;
use continuum_tower::ContinuumClient;
use continuum_tower::client::ClientError;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{self, Error, SessionStore};

/// The attribute holding a record.
pub const ATTRIBUTE: &str = "tower_sessions";
/// The prefix of the principals tower-sessions ids map to.
pub const PRINCIPAL_PREFIX: &str = "tower-sessions:";
/// Continuum's longest idle timeout by default.
const MAX_IDLE_SECS: u64 = 30 * 24 * 3600;

/// A tower-sessions store on a Continuum server's backend plane.
#[derive(Clone, Debug)]
pub struct ContinuumStore {
    client: ContinuumClient,
}

impl ContinuumStore {
    /// The store on the Continuum server at `url` (`http://host:port`) with `api_key`.
    pub fn new(url: impl Into<String>, api_key: &str) -> Self {
        Self { client: ContinuumClient::new(url, api_key) }
    }

    async fn write(&self, record: &Record) -> session_store::Result<String> {
        let remaining = (record.expiry_date - OffsetDateTime::now_utc()).whole_seconds().max(1) as u64;
        let attributes =
            json!({ ATTRIBUTE: { "data": record.data, "expiry": record.expiry_date.unix_timestamp() } });
        let issued = self
            .client
            .create_with(&principal(&record.id), attributes, remaining.min(MAX_IDLE_SECS), remaining)
            .await
            .map_err(backend)?;
        Ok(issued.session.sid)
    }
}

fn principal(id: &Id) -> String {
    format!("{PRINCIPAL_PREFIX}{id}")
}

fn backend(error: ClientError) -> Error {
    Error::Backend(format!("Continuum: {error}"))
}

/// The record a session's attributes hold, if it has not expired.
fn decode(
    id: Id,
    attributes: &serde_json::Map<String, Value>,
    now: OffsetDateTime,
) -> session_store::Result<Option<Record>> {
    let Some(stored) = attributes.get(ATTRIBUTE) else { return Ok(None) };
    let expiry = stored["expiry"].as_i64().ok_or_else(|| Error::Decode("no expiry".to_owned()))?;
    let expiry_date =
        OffsetDateTime::from_unix_timestamp(expiry).map_err(|e| Error::Decode(e.to_string()))?;
    if expiry_date <= now {
        return Ok(None);
    }
    let data = serde_json::from_value(stored["data"].clone()).map_err(|e| Error::Decode(e.to_string()))?;
    Ok(Some(Record { id, data, expiry_date }))
}

#[async_trait]
impl SessionStore for ContinuumStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        while !self.client.sessions_of(&principal(&record.id)).await.map_err(backend)?.is_empty() {
            record.id = Id::default();
        }
        self.write(record).await.map(drop)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let sid = self.write(record).await?;
        self.client.revoke_principal(&principal(&record.id), Some(&sid)).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let sessions = self.client.sessions_of(&principal(id)).await.map_err(backend)?;
        match sessions.last() {
            None => Ok(None),
            Some(newest) => decode(*id, &newest.attributes, OffsetDateTime::now_utc()),
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.client.revoke_principal(&principal(id), None).await.map_err(backend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_live_records_only() {
        let now = OffsetDateTime::now_utc();
        let id = Id::default();
        let attributes = json!({ ATTRIBUTE: { "data": {"n": 1}, "expiry": now.unix_timestamp() + 60 } });
        let record = decode(id, attributes.as_object().unwrap(), now).unwrap().unwrap();
        assert_eq!(record.data["n"], 1);
        let past = json!({ ATTRIBUTE: { "data": {}, "expiry": now.unix_timestamp() - 1 } });
        assert!(decode(id, past.as_object().unwrap(), now).unwrap().is_none());
        assert!(decode(id, &serde_json::Map::new(), now).unwrap().is_none());
        assert!(principal(&id).starts_with(PRINCIPAL_PREFIX));
    }
}
