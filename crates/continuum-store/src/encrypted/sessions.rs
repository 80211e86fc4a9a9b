//! [`EncryptedSessions`]: a [`SessionStore`] that keeps each session's attributes and device in
//! one XChaCha20-Poly1305 blob bound to its sid, in the inner store's record.
//!
//! The stored record is the session with `device` empty and `attributes` replaced by the single
//! entry [`MARKER`] → base64url of the blob, so every backend stores it with its own codec,
//! unchanged. The label and user agent are encrypted too: with the attributes they are what a
//! record says about a person (a device name is often the person's name, a user agent narrows
//! them down). The principal stays plaintext: stores list sessions by it.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use continuum_core::at_rest::is_encrypted;
use continuum_core::{DataKeyRing, Device, Principal, SessionId, SessionRecord, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::encrypted::error::AtRestError;
use crate::store::{PurgedSession, SessionStore, StoreError};

/// The one attribute an encrypted record holds: its value is the blob, base64url.
pub const MARKER: &str = "~continuum:encrypted";

/// What the blob holds: the session's personal data.
#[derive(Serialize, Deserialize)]
struct Personal {
    #[serde(rename = "a")]
    attributes: Map<String, Value>,
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    user_agent: Option<String>,
}

/// A [`SessionStore`] encrypting what `S` keeps of each session's attributes and device.
pub struct EncryptedSessions<S: ?Sized> {
    inner: Arc<S>,
    ring: DataKeyRing,
}

impl<S: SessionStore + ?Sized> EncryptedSessions<S> {
    /// `inner`, with what it keeps encrypted under `ring` (the first key encrypts).
    pub fn new(inner: Arc<S>, ring: DataKeyRing) -> Self {
        Self { inner, ring }
    }

    fn seal(&self, record: &SessionRecord) -> Result<Arc<SessionRecord>, StoreError> {
        let personal = Personal {
            attributes: record.attributes.clone(),
            label: record.device.label.clone(),
            user_agent: record.device.user_agent.clone(),
        };
        let plaintext = serde_json::to_vec(&personal).map_err(|source| {
            StoreError::backend(AtRestError::Payload { record: name(&record.sid), source })
        })?;
        let blob = self.ring.encrypt(&context(&record.sid), &plaintext);
        let mut attributes = Map::with_capacity(1);
        attributes.insert(MARKER.to_owned(), Value::String(URL_SAFE_NO_PAD.encode(blob)));
        Ok(Arc::new(SessionRecord { attributes, device: Device::default(), ..record.clone() }))
    }

    fn open(&self, stored: Arc<SessionRecord>) -> Result<Arc<SessionRecord>, StoreError> {
        open_record(&self.ring, stored).map_err(StoreError::backend)
    }

    fn open_all(&self, stored: Vec<Arc<SessionRecord>>) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        stored.into_iter().map(|record| self.open(record)).collect()
    }
}

/// The session `stored` holds: decrypted if it is encrypted, as it is if it was written before.
fn open_record(ring: &DataKeyRing, stored: Arc<SessionRecord>) -> Result<Arc<SessionRecord>, AtRestError> {
    let encoded = match (stored.attributes.len(), stored.attributes.get(MARKER)) {
        (1, Some(Value::String(encoded))) => encoded,
        _ => return Ok(stored),
    };
    let record = || name(&stored.sid);
    let blob = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| AtRestError::Encoding { record: record() })?;
    if !is_encrypted(&blob) {
        return Err(AtRestError::Encoding { record: record() });
    }
    let plaintext = ring
        .decrypt(&context(&stored.sid), &blob)
        .map_err(|source| AtRestError::Decrypt { record: record(), source })?;
    let personal: Personal = serde_json::from_slice(&plaintext)
        .map_err(|source| AtRestError::Payload { record: record(), source })?;
    let mut session = Arc::unwrap_or_clone(stored);
    session.attributes = personal.attributes;
    session.device = Device { label: personal.label, user_agent: personal.user_agent };
    Ok(Arc::new(session))
}

/// The associated data binding a blob to its session.
fn context(sid: &SessionId) -> Vec<u8> {
    format!("session\0{sid}").into_bytes()
}

fn name(sid: &SessionId) -> String {
    format!("session {sid}")
}

#[async_trait]
impl<S: SessionStore + ?Sized> SessionStore for EncryptedSessions<S> {
    async fn insert(&self, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        self.inner.insert(self.seal(&record)?).await
    }

    async fn get(&self, sid: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        self.inner.get(sid).await?.map(|record| self.open(record)).transpose()
    }

    async fn replace(&self, expected_version: u64, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        self.inner.replace(expected_version, self.seal(&record)?).await
    }

    async fn touch(&self, sid: &SessionId, at: Timestamp) -> Result<(), StoreError> {
        self.inner.touch(sid, at).await
    }

    async fn list_by_principal(&self, principal: &Principal) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        self.open_all(self.inner.list_by_principal(principal).await?)
    }

    async fn purge_expired(&self, now: Timestamp, limit: usize) -> Result<Vec<PurgedSession>, StoreError> {
        self.inner.purge_expired(now, limit).await
    }

    async fn purge_sessions(
        &self,
        sids: &[SessionId],
        now: Timestamp,
    ) -> Result<Vec<PurgedSession>, StoreError> {
        self.inner.purge_sessions(sids, now).await
    }

    async fn principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        self.inner.principal_epoch(principal).await
    }

    async fn bump_principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        self.inner.bump_principal_epoch(principal).await
    }

    async fn raise_principal_epoch(&self, principal: &Principal, at_least: u64) -> Result<u64, StoreError> {
        self.inner.raise_principal_epoch(principal, at_least).await
    }

    async fn scan(
        &self,
        after: Option<SessionId>,
        limit: usize,
    ) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        self.open_all(self.inner.scan(after, limit).await?)
    }

    async fn scan_epochs(
        &self,
        after: Option<&Principal>,
        limit: usize,
    ) -> Result<Vec<(Principal, u64)>, StoreError> {
        self.inner.scan_epochs(after, limit).await
    }

    fn data_loss(&self) -> Option<tokio::sync::watch::Receiver<crate::DataLoss>> {
        self.inner.data_loss()
    }

    async fn count(&self) -> Result<u64, StoreError> {
        self.inner.count().await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    async fn close(&self) -> Result<(), StoreError> {
        self.inner.close().await
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use continuum_core::at_rest::DecryptError;
    use continuum_core::{DataKey, ManualClock, NewSession, SessionPolicy};
    use serde_json::json;

    use super::*;
    use crate::{MemoryStore, Sessions, testkit};

    fn ring() -> DataKeyRing {
        DataKeyRing::new(vec![DataKey::generate()]).unwrap()
    }

    fn record(attributes: Value) -> Arc<SessionRecord> {
        let (mut record, _) =
            SessionPolicy::default().new_session(NewSession::default(), testkit::START).unwrap();
        record.attributes = attributes.as_object().cloned().unwrap();
        record.device = Device { label: Some("Alice's phone".into()), user_agent: Some("Agent/7".into()) };
        Arc::new(record)
    }

    #[tokio::test]
    async fn the_walks_replication_needs_pass_through() {
        let store = EncryptedSessions::new(Arc::new(MemoryStore::new()), ring());
        let alice = Principal::parse("alice").unwrap();
        store.bump_principal_epoch(&alice).await.unwrap();
        assert_eq!(store.scan_epochs(None, 10).await.expect("not refused"), [(alice, 1)]);
        store.insert(record(json!({}))).await.unwrap();
        assert_eq!(store.scan(None, 10).await.expect("not refused").len(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance_over_the_decorator() {
        testkit::run_all(|clock: ManualClock| async move {
            let store = EncryptedSessions::new(Arc::new(MemoryStore::new()), ring());
            Sessions::new(Arc::new(store), Arc::new(clock))
        })
        .await;
    }

    #[tokio::test]
    async fn the_inner_store_holds_no_attribute_nor_device_and_reads_come_back_whole() {
        let inner = Arc::new(MemoryStore::new());
        let store = EncryptedSessions::new(Arc::clone(&inner), ring());
        let session = record(json!({"card": "4111-distinctive"}));
        store.insert(Arc::clone(&session)).await.unwrap();
        let stored = inner.get(&session.sid).await.unwrap().unwrap();
        let text = serde_json::to_string(&*stored).unwrap();
        for secret in ["4111-distinctive", "card", "Alice", "Agent/7"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(stored.attributes.keys().collect::<Vec<_>>(), [MARKER]);
        assert_eq!(store.get(&session.sid).await.unwrap().unwrap(), session);
        assert_eq!(store.list_by_principal(&session.principal).await.unwrap(), vec![session]);
    }

    #[tokio::test]
    async fn a_blob_moved_to_another_session_fails_to_decrypt() {
        let inner = Arc::new(MemoryStore::new());
        let store = EncryptedSessions::new(Arc::clone(&inner), ring());
        let (a, b) = (record(json!({"who": "a"})), record(json!({"who": "b"})));
        store.insert(Arc::clone(&a)).await.unwrap();
        store.insert(Arc::clone(&b)).await.unwrap();
        let stolen = inner.get(&a.sid).await.unwrap().unwrap().attributes.clone();
        let mut moved = (*inner.get(&b.sid).await.unwrap().unwrap()).clone();
        moved.attributes = stolen;
        moved.version += 1;
        inner.replace(b.version, Arc::new(moved)).await.unwrap();
        let error = store.get(&b.sid).await.unwrap_err();
        let cause = error.source().unwrap().downcast_ref::<AtRestError>().unwrap();
        assert!(matches!(cause, AtRestError::Decrypt { source: DecryptError::Forged, .. }), "{cause:?}");
        assert_eq!(store.get(&a.sid).await.unwrap().unwrap(), a, "the original still opens");
    }

    #[tokio::test]
    async fn plaintext_written_before_is_read_then_written_encrypted() {
        let inner = Arc::new(MemoryStore::new());
        let session = record(json!({"theme": "plain-before"}));
        inner.insert(Arc::clone(&session)).await.unwrap();
        let store = EncryptedSessions::new(Arc::clone(&inner), ring());
        assert_eq!(store.get(&session.sid).await.unwrap().unwrap(), session, "read as it was");
        let mut changed = (*session).clone();
        changed.attributes.insert("theme".into(), json!("encrypted-after"));
        changed.version += 1;
        store.replace(session.version, Arc::new(changed.clone())).await.unwrap();
        let stored = serde_json::to_string(&*inner.get(&session.sid).await.unwrap().unwrap()).unwrap();
        assert!(!stored.contains("encrypted-after") && !stored.contains("theme"), "{stored}");
        assert_eq!(*store.get(&session.sid).await.unwrap().unwrap(), changed);
    }

    #[tokio::test]
    async fn a_missing_key_or_a_damaged_value_is_an_error_naming_the_session() {
        let inner = Arc::new(MemoryStore::new());
        let session = record(json!({"x": 1}));
        EncryptedSessions::new(Arc::clone(&inner), ring()).insert(Arc::clone(&session)).await.unwrap();
        let error = EncryptedSessions::new(Arc::clone(&inner), ring()).get(&session.sid).await.unwrap_err();
        let cause = error.source().unwrap().to_string();
        assert!(cause.contains(&session.sid.to_string()), "{cause}");
        assert!(
            error.source().unwrap().source().unwrap().to_string().contains("does not hold"),
            "{:?}",
            error
        );
        let mut damaged = (*session).clone();
        damaged.attributes = json!({MARKER: "not*base64"}).as_object().cloned().unwrap();
        damaged.version += 1;
        inner.replace(session.version, Arc::new(damaged)).await.unwrap();
        let error = EncryptedSessions::new(Arc::clone(&inner), ring()).get(&session.sid).await.unwrap_err();
        assert!(matches!(error, StoreError::Backend(_)), "{error:?}");
    }
}
