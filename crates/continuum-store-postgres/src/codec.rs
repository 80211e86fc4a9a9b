//! Conversions between Rust values and columns: records to and from their stored JSON, unsigned
//! counters to and from `bigint`, and typed reads of result columns that fail instead of panicking.

use continuum_core::{SessionId, SessionRecord, Status, Timestamp};
use continuum_store::{StoreError, decode_record, encode_record};
use tokio_postgres::Row;
use tokio_postgres::types::FromSql;

use crate::error::PostgresStoreError;

/// Column `index` of `row` as a `T`; an error (not a panic) if the statement answered otherwise.
pub(crate) fn column<'a, T: FromSql<'a>>(
    row: &'a Row,
    index: usize,
    operation: &'static str,
) -> Result<T, PostgresStoreError> {
    row.try_get(index).map_err(|_| PostgresStoreError::UnexpectedAnswer(operation))
}

/// A `u64` counter (version, sequence number) as a `bigint`. Larger values cannot be stored; no
/// store reaches them by counting, so only a caller passing one gets this refusal.
pub(crate) fn to_bigint(value: u64, what: &'static str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::InvalidWrite(what))
}

/// A stored `bigint` counter back as a `u64`; negative means a damaged row.
pub(crate) fn from_bigint(value: i64, what: &str) -> Result<u64, PostgresStoreError> {
    u64::try_from(value).map_err(|_| PostgresStoreError::Corrupt(format!("negative {what}: {value}")))
}

/// The stored text of a status (`sessions.status`).
pub(crate) fn status_text(status: Status) -> &'static str {
    match status {
        Status::Active => "active",
        Status::Revoked => "revoked",
    }
}

/// The idle timeout in milliseconds, saturating like [`Timestamp`] arithmetic does.
pub(crate) fn idle_timeout_ms(record: &SessionRecord) -> i64 {
    i64::try_from(record.idle_timeout().as_millis()).unwrap_or(i64::MAX)
}

/// The JSON a record is stored as.
pub(crate) fn encode(record: &SessionRecord) -> Result<Vec<u8>, PostgresStoreError> {
    Ok(encode_record(record)?)
}

/// A stored record, checked to be the session it is stored under, with the authoritative
/// `last_seen_at` column put back in (a touch updates the column, not the JSON).
pub(crate) fn decode(
    sid: SessionId,
    json: &[u8],
    last_seen_at: i64,
) -> Result<SessionRecord, PostgresStoreError> {
    let mut record = decode_record(sid, json)?;
    record.last_seen_at = Timestamp::from_millis(last_seen_at);
    Ok(record)
}

/// A session id from a `bytea` key column.
pub(crate) fn sid_from_key(key: &[u8]) -> Result<SessionId, PostgresStoreError> {
    let bytes = key
        .try_into()
        .map_err(|_| PostgresStoreError::Corrupt(format!("a {}-byte session id", key.len())))?;
    Ok(SessionId::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use continuum_core::{NewSession, SessionPolicy};
    use continuum_store::RecordCodecError;

    use super::*;

    fn record() -> SessionRecord {
        SessionPolicy::default()
            .new_session(NewSession::default(), Timestamp::from_millis(1_000))
            .expect("new")
            .0
    }

    #[test]
    fn decode_puts_the_touched_last_seen_back_and_checks_the_key() {
        let record = record();
        let json = encode(&record).expect("encode");
        let back = decode(record.sid, &json, 5_000).expect("decode");
        assert_eq!(back.last_seen_at, Timestamp::from_millis(5_000));
        assert_eq!(SessionRecord { last_seen_at: record.last_seen_at, ..back }, record);
        let other = SessionId::generate();
        assert!(matches!(
            decode(other, &json, 0),
            Err(PostgresStoreError::Record(RecordCodecError::KeyMismatch { .. }))
        ));
        let broken = decode(record.sid, b"{", 0);
        assert!(matches!(broken, Err(PostgresStoreError::Record(RecordCodecError::Decode { .. }))));
    }

    #[test]
    fn counters_and_keys_convert_exactly_or_refuse() {
        assert_eq!(to_bigint(i64::MAX as u64, "v").expect("fits"), i64::MAX);
        assert!(matches!(to_bigint(u64::MAX, "v"), Err(StoreError::InvalidWrite("v"))));
        assert_eq!(from_bigint(7, "seq").expect("positive"), 7);
        assert!(from_bigint(-1, "seq").is_err());
        let sid = SessionId::generate();
        assert_eq!(sid_from_key(sid.as_bytes()).expect("16 bytes"), sid);
        assert!(sid_from_key(&[0; 15]).is_err());
    }

    #[test]
    fn a_huge_idle_timeout_saturates() {
        let record = SessionRecord { idle_timeout_secs: u64::MAX, ..record() };
        assert_eq!(idle_timeout_ms(&record), i64::MAX);
    }
}
