//! How a [`SessionRecord`] is laid out in its Redis hash, and read back.
//!
//! | field | holds | why a field of its own |
//! |---|---|---|
//! | `j` | the record as JSON (serde_json), as of the last insert or replace | the record itself |
//! | `v` | `version`, decimal | compare-and-swap without decoding JSON |
//! | `p` | the principal | a replace may not change it |
//! | `a` | `1` active, `0` revoked | touch and purge skip or keep tombstones |
//! | `t` | `last_seen_at` in ms, the authoritative one | touch moves it without rewriting `j` |
//! | `i` | the idle timeout in ms | purge time = min(`t` + `i`, `x`) for an active session |
//! | `x` | `absolute_expires_at` in ms | the purge time of a tombstone |
//! | `e` | the score the session's expiry index entry was last given | see [`crate::sessions`] |
//!
//! Lua never decodes or re-encodes `j`: cjson would turn `[]` into `{}` and round large
//! integers in the attributes. Touch writes `t` only, and a read lays `t` over the JSON's
//! `last_seen_at`.

use continuum_core::{SessionId, SessionRecord, Status};
use continuum_store::{StoreError, decode_record, encode_record};

use crate::error::RedisStoreError;

/// The fields a read fetches, in order: the JSON and the authoritative `last_seen_at`.
pub(crate) const READ_FIELDS: [&str; 2] = ["j", "t"];

/// The script arguments that describe a record: json, version, principal, active, last_seen,
/// idle_ms, absolute — in the order the insert and replace scripts read them.
pub(crate) fn record_args(record: &SessionRecord) -> Result<Vec<Vec<u8>>, StoreError> {
    let json = encode_record(record).map_err(|error| StoreError::backend(RedisStoreError::from(error)))?;
    let idle_ms = i64::try_from(record.idle_timeout().as_millis()).unwrap_or(i64::MAX);
    Ok(vec![
        json,
        record.version.to_string().into_bytes(),
        record.principal.as_str().as_bytes().to_vec(),
        active_flag(record).as_bytes().to_vec(),
        record.last_seen_at.as_millis().to_string().into_bytes(),
        idle_ms.to_string().into_bytes(),
        record.absolute_expires_at.as_millis().to_string().into_bytes(),
    ])
}

fn active_flag(record: &SessionRecord) -> &'static str {
    match record.status {
        Status::Active => "1",
        Status::Revoked => "0",
    }
}

/// The record from the [`READ_FIELDS`] of the hash of `sid`, or `None` when the key is absent.
pub(crate) fn decode(
    sid: &SessionId,
    json: Option<Vec<u8>>,
    last_seen: Option<i64>,
) -> Result<Option<SessionRecord>, StoreError> {
    let Some(json) = json else { return Ok(None) };
    let mut record =
        decode_record(*sid, &json).map_err(|error| StoreError::backend(RedisStoreError::from(error)))?;
    if let Some(at) = last_seen {
        record.last_seen_at = continuum_core::Timestamp::from_millis(at);
    }
    Ok(Some(record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use continuum_core::{NewSession, Principal, SessionPolicy, Timestamp};

    fn record() -> SessionRecord {
        let ask = NewSession { principal: Some(Principal::parse("alice").unwrap()), ..NewSession::default() };
        SessionPolicy::default().new_session(ask, Timestamp::from_millis(1_000)).unwrap().0
    }

    #[test]
    fn the_touch_field_wins_over_the_json() {
        let record = record();
        let json = serde_json::to_vec(&record).unwrap();
        let read = decode(&record.sid, Some(json.clone()), Some(5_000)).unwrap().unwrap();
        assert_eq!(read.last_seen_at, Timestamp::from_millis(5_000));
        assert_eq!(SessionRecord { last_seen_at: record.last_seen_at, ..read }, record);
        assert_eq!(decode(&record.sid, Some(json), None).unwrap().unwrap(), record);
        assert!(decode(&record.sid, None, None).unwrap().is_none());
    }

    #[test]
    fn a_record_under_another_key_or_broken_json_is_an_error() {
        let record = record();
        let json = serde_json::to_vec(&record).unwrap();
        let other = SessionId::generate();
        assert!(matches!(decode(&other, Some(json), None), Err(StoreError::Backend(_))));
        assert!(matches!(decode(&record.sid, Some(b"{".to_vec()), None), Err(StoreError::Backend(_))));
    }

    #[test]
    fn arguments_carry_what_lua_compares() {
        let record = record();
        let args = record_args(&record).unwrap();
        assert_eq!(args[1], b"1");
        assert_eq!(args[2], b"alice");
        assert_eq!(args[3], b"1");
        assert_eq!(args[4], b"1000");
        assert_eq!(args[5], record.idle_timeout().as_millis().to_string().into_bytes());
    }
}
