//! The record codec every backend stores sessions with: a [`SessionRecord`] as JSON, checked on
//! the way back to be the session its key names, and [`RecordCodecError`], the one error for it.

use continuum_core::{SessionId, SessionRecord};

/// Why a session record could not be stored or read back. Backends carry it as the cause of
/// their own error (and so of [`crate::StoreError::Backend`]).
#[derive(Debug, thiserror::Error)]
pub enum RecordCodecError {
    /// A record could not be encoded as JSON.
    #[error("cannot encode session {sid}")]
    Encode {
        /// The session.
        sid: SessionId,
        /// What serde_json reported.
        #[source]
        source: serde_json::Error,
    },
    /// A stored record is not valid JSON for a session: the stored bytes were damaged, changed
    /// by hand, or written by an incompatible version.
    #[error("the stored record of session {sid} does not decode")]
    Decode {
        /// The key it was stored under.
        sid: SessionId,
        /// What serde_json reported.
        #[source]
        source: serde_json::Error,
    },
    /// A stored record names another session than the key it is stored under.
    #[error("the record stored under {key} is session {found}")]
    KeyMismatch {
        /// The key's session id.
        key: SessionId,
        /// The sid inside the record.
        found: SessionId,
    },
}

/// The JSON a record is stored as.
pub fn encode_record(record: &SessionRecord) -> Result<Vec<u8>, RecordCodecError> {
    serde_json::to_vec(record).map_err(|source| RecordCodecError::Encode { sid: record.sid, source })
}

/// The record stored as `json` under `sid`, checked to be that session.
pub fn decode_record(sid: SessionId, json: &[u8]) -> Result<SessionRecord, RecordCodecError> {
    let record: SessionRecord =
        serde_json::from_slice(json).map_err(|source| RecordCodecError::Decode { sid, source })?;
    if record.sid != sid {
        return Err(RecordCodecError::KeyMismatch { key: sid, found: record.sid });
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use continuum_core::{NewSession, SessionPolicy, Timestamp};
    use serde_json::json;

    use super::*;

    #[test]
    fn a_record_comes_back_as_it_went_in_under_its_own_key_only() {
        let (mut record, _) = SessionPolicy::default()
            .new_session(NewSession::default(), Timestamp::from_millis(1_000))
            .unwrap();
        record.attributes.insert("cart".into(), json!({"items": [1, 2], "big": u64::MAX}));
        let json = encode_record(&record).unwrap();
        assert_eq!(decode_record(record.sid, &json).unwrap(), record);
        let other = SessionId::generate();
        match decode_record(other, &json) {
            Err(RecordCodecError::KeyMismatch { key, found }) => {
                assert_eq!((key, found), (other, record.sid))
            }
            wrong => panic!("expected a key mismatch, got {wrong:?}"),
        }
        assert!(matches!(decode_record(record.sid, b"{not json"), Err(RecordCodecError::Decode { .. })));
    }
}
