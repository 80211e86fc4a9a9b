//! [`session_envelope_json`]: `{"session": …}` written by hand, the answer of the hot path.
//!
//! Validate, read, patch and `/v1/me` answer with one session. serde_json escapes every string it
//! writes, keys included, and formats times through `core::fmt`; in a `perf` profile of validate
//! that was the largest single piece of the work validate does and the floor (`/hello`) does
//! not (~0.6 µs of ~3 µs). Here the
//! keys are literals, and the id, the times, the numbers and the status are copied as they are,
//! since they can only hold characters JSON takes verbatim. The principal, the device and the
//! attributes hold an application's text and still go through serde_json.
//!
//! The derived `Serialize` of [`SessionEnvelope`](super::SessionEnvelope) stays the reference
//! (and the OpenAPI schema): the tests below check that both write the same bytes.

use continuum_core::Timestamp;
use serde::Serialize;

use super::SessionView;

/// Room for a session without attributes, so the common answer never grows its buffer.
const TYPICAL_ANSWER_BYTES: usize = 1024;

/// `{"session": <view>}` as JSON, byte for byte what `serde_json::to_vec` of a
/// [`SessionEnvelope`](super::SessionEnvelope) holding `view` gives.
pub fn session_envelope_json(view: &SessionView<'_>) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(TYPICAL_ANSWER_BYTES);
    out.extend_from_slice(b"{\"session\":{\"sid\":\"");
    out.extend_from_slice(&view.sid.encoded());
    out.extend_from_slice(b"\",\"principal\":");
    serde_json::to_writer(&mut out, view.principal)?;
    out.extend_from_slice(b",\"device\":");
    serde_json::to_writer(&mut out, view.device)?;
    time(&mut out, b",\"created_at\":", view.created_at.0)?;
    time(&mut out, b",\"last_seen_at\":", view.last_seen_at.0)?;
    time(&mut out, b",\"expires_at\":", view.expires_at.0)?;
    number(&mut out, b",\"idle_timeout_secs\":", view.idle_timeout_secs);
    time(&mut out, b",\"absolute_expires_at\":", view.absolute_expires_at.0)?;
    out.extend_from_slice(b",\"attributes\":");
    if view.attributes.is_empty() {
        out.extend_from_slice(b"{}");
    } else {
        serde_json::to_writer(&mut out, view.attributes)?;
    }
    number(&mut out, b",\"version\":", view.version);
    out.extend_from_slice(b",\"status\":\"");
    // A fixed word: `active`, `expired` or `revoked`.
    out.extend_from_slice(view.status.as_bytes());
    out.push(b'"');
    if view.sealed {
        out.extend_from_slice(b",\"sealed\":true");
    }
    out.extend_from_slice(b"}}");
    Ok(out)
}

fn time(out: &mut Vec<u8>, key: &[u8], at: Timestamp) -> Result<(), serde_json::Error> {
    out.extend_from_slice(key);
    match at.rfc3339_bytes() {
        Some(text) => {
            out.push(b'"');
            out.extend_from_slice(&text);
            out.push(b'"');
            Ok(())
        }
        // Years outside 0-9999 take the general path.
        None => super::Rfc3339(at).serialize(&mut serde_json::Serializer::new(out)),
    }
}

fn number(out: &mut Vec<u8>, key: &[u8], value: u64) {
    out.extend_from_slice(key);
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

#[cfg(test)]
mod tests {
    use continuum_core::{Device, Principal, SealedSession, Secret, SessionId, SessionRecord, Status};
    use serde_json::{Value, json};

    use super::*;
    use crate::views::SessionEnvelope;

    fn reference(view: SessionView<'_>) -> String {
        String::from_utf8(serde_json::to_vec(&SessionEnvelope { session: view }).unwrap()).unwrap()
    }

    fn ours(view: &SessionView<'_>) -> String {
        String::from_utf8(session_envelope_json(view).unwrap()).unwrap()
    }

    fn record(principal: &str, device: Device, attributes: Value, at: Timestamp) -> SessionRecord {
        let Value::Object(attributes) = attributes else { panic!("attributes are an object") };
        SessionRecord {
            sid: SessionId::generate(),
            secret_digest: Secret::generate().digest(),
            previous_secret: None,
            principal: Principal::parse(principal).unwrap(),
            device,
            created_at: at,
            last_seen_at: at,
            idle_timeout_secs: 900,
            absolute_expires_at: Timestamp::from_millis(at.as_millis() + 86_400_000),
            attributes,
            version: 1,
            status: Status::Active,
        }
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let now = Timestamp::from_millis(1_764_000_000_123);
        let devices = [
            Device::default(),
            Device { label: Some("continuum bench".into()), user_agent: None },
            Device { label: None, user_agent: Some("Mozilla/5.0 \"quoted\" \\ back".into()) },
            Device {
                label: Some("tab\there, line\nthere, \u{1}, é, 日本".into()),
                user_agent: Some(String::new()),
            },
        ];
        let attributes = [
            json!({}),
            json!({"cart": [1, 2.5, -3], "nested": {"a": null, "b": true}, "quote\"key": "v\\"}),
            json!({"big": u64::MAX, "neg": i64::MIN, "unicode": "\u{2028}\u{7f}"}),
        ];
        for principal in ["user-1", "mail:a\"b@example.org", "ünïcode/\\path"] {
            for device in &devices {
                for attrs in &attributes {
                    let mut record = record(principal, device.clone(), attrs.clone(), now);
                    for (version, status) in [(1, Status::Active), (u64::MAX, Status::Revoked)] {
                        record.version = version;
                        record.status = status;
                        // Live, then long expired.
                        for at in [now, Timestamp::from_millis(i64::MAX / 2)] {
                            let view = SessionView::new(&record, at);
                            assert_eq!(ours(&view), reference(SessionView::new(&record, at)));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn writes_times_beyond_four_digit_years_and_sealed_sessions_as_serde_json_does() {
        let epoch = Timestamp::from_millis(0);
        let mut record = record("user-1", Device::default(), json!({"k": 1}), epoch);
        for millis in [-62_167_219_200_001, 253_402_300_800_000, i64::MIN / 4, i64::MAX / 4] {
            record.created_at = Timestamp::from_millis(millis);
            let view = SessionView::new(&record, epoch);
            assert_eq!(ours(&view), reference(SessionView::new(&record, epoch)), "created_at {millis}");
        }
        let sealed = SealedSession {
            sid: record.sid,
            principal: record.principal.clone(),
            device: Device { label: Some("phone".into()), user_agent: None },
            attributes: record.attributes.clone(),
            created_at: epoch,
            last_seen_at: epoch,
            idle_timeout_secs: 60,
            absolute_expires_at: Timestamp::from_millis(3_600_000),
            epoch: 3,
        };
        let view = SessionView::sealed(&sealed, epoch);
        let parsed: Value = serde_json::from_str(&ours(&view)).unwrap();
        assert_eq!(parsed["session"]["sealed"], true);
        assert_eq!(ours(&view), reference(SessionView::sealed(&sealed, epoch)));
    }
}
