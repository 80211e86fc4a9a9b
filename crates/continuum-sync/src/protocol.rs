//! The y-websocket protocol (v1) as pure functions: decoding what a peer sends, encoding what
//! it receives.
//!
//! A message is `[varUint type][payload]`: type 0 is sync (step 1, step 2, update), 1 is
//! awareness, 2 is auth (ignored: access is decided before a peer connects), 3 asks for the
//! awareness states. One WebSocket message may carry several protocol messages back to back, as
//! yrs-based clients send; decoding stops at a type it does not know, whose length it cannot
//! tell.

use continuum_core::ywire::{
    MSG_AUTH, MSG_AWARENESS, MSG_QUERY_AWARENESS, MSG_SYNC, SYNC_STEP_1, SYNC_STEP_2, SYNC_UPDATE,
};
use yrs::encoding::read::{Cursor, Error, Read};
use yrs::encoding::write::Write;
use yrs::sync::{AwarenessUpdate, Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{StateVector, Update};

/// One protocol message from a peer.
#[derive(Debug, PartialEq)]
pub enum Inbound {
    /// The peer's state vector: it asks for what it lacks.
    SyncStep1(StateVector),
    /// What the peer has and the server lacked (its answer to the server's step 1).
    SyncStep2(Vec<u8>),
    /// A change the peer made.
    Update(Vec<u8>),
    /// Awareness states of the peer's clients.
    Awareness(AwarenessUpdate),
    /// The peer asks for every awareness state.
    QueryAwareness,
    /// An auth message, which the server ignores.
    Auth,
    /// A message type this server does not know; decoding stopped there.
    Unknown(u64),
}

impl Inbound {
    /// Whether the message carries document content (and so counts for durability acks).
    pub fn bears_content(&self) -> bool {
        matches!(self, Inbound::SyncStep2(_) | Inbound::Update(_))
    }
}

/// Decodes every protocol message in one WebSocket message.
pub fn decode(message: &[u8]) -> Result<Vec<Inbound>, Error> {
    let mut cursor = Cursor::new(message);
    let mut decoded = Vec::new();
    while cursor.has_content() {
        let next = decode_one(&mut cursor)?;
        let stop = matches!(next, Inbound::Unknown(_));
        decoded.push(next);
        if stop {
            break;
        }
    }
    Ok(decoded)
}

fn decode_one(cursor: &mut Cursor<'_>) -> Result<Inbound, Error> {
    Ok(match cursor.read_var::<u64>()? {
        MSG_SYNC => match cursor.read_var::<u64>()? {
            SYNC_STEP_1 => Inbound::SyncStep1(StateVector::decode_v1(cursor.read_buf()?)?),
            SYNC_STEP_2 => Inbound::SyncStep2(cursor.read_buf()?.to_vec()),
            SYNC_UPDATE => Inbound::Update(cursor.read_buf()?.to_vec()),
            _ => return Err(Error::UnexpectedValue),
        },
        MSG_AWARENESS => Inbound::Awareness(AwarenessUpdate::decode_v1(cursor.read_buf()?)?),
        MSG_AUTH => {
            // [0 = denied, reason] or [1 = granted]; either way nothing to do.
            if cursor.read_var::<u8>()? == 0 {
                cursor.read_string()?;
            }
            Inbound::Auth
        }
        MSG_QUERY_AWARENESS => Inbound::QueryAwareness,
        other => Inbound::Unknown(other),
    })
}

/// Whether `message` is an awareness message (the messages a document sends its peers carry
/// one protocol message each, so the first type tells).
pub fn is_awareness(message: &[u8]) -> bool {
    Cursor::new(message).read_var::<u64>().is_ok_and(|kind| kind == MSG_AWARENESS)
}

/// Decodes a Yjs v1 update. A panic inside the decoder on hostile input is caught and
/// reported as a malformed update: input never takes the server down.
pub fn decode_update(bytes: &[u8]) -> Result<Update, Error> {
    std::panic::catch_unwind(|| Update::decode_v1(bytes))
        .unwrap_or_else(|_| Err(Error::Custom("the update decoder panicked".to_owned())))
}

/// `[0, 0, state vector]`: asks the peer for what the server lacks.
pub fn sync_step1(state_vector: StateVector) -> Vec<u8> {
    Message::Sync(SyncMessage::SyncStep1(state_vector)).encode_v1()
}

/// `[0, 1, update]`: what the peer lacked.
pub fn sync_step2(update: Vec<u8>) -> Vec<u8> {
    Message::Sync(SyncMessage::SyncStep2(update)).encode_v1()
}

/// `[0, 2, update]`: a change to the document.
pub fn update(update: Vec<u8>) -> Vec<u8> {
    Message::Sync(SyncMessage::Update(update)).encode_v1()
}

/// `[0, 2, update]` from a borrowed update, encoded in one allocation of the exact size (what
/// every broadcast encodes once and shares between its peers); the same bytes as [`update`].
pub fn update_message(update: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(update.len() + 12);
    message.write_var(MSG_SYNC);
    message.write_var(SYNC_UPDATE);
    message.write_buf(update);
    message
}

/// `[1, awareness update]`: awareness states, or their removal.
pub fn awareness(update: AwarenessUpdate) -> Vec<u8> {
    Message::Awareness(update).encode_v1()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use yrs::sync::awareness::AwarenessUpdateEntry;
    use yrs::{ClientID, Doc, GetString, ReadTxn, Text, Transact};

    use super::*;

    fn text_update() -> Vec<u8> {
        let doc = Doc::with_client_id(7);
        let text = doc.get_or_insert_text("t");
        text.push(&mut doc.transact_mut(), "hello");
        doc.transact().encode_state_as_update_v1(&StateVector::default())
    }

    #[test]
    fn sync_messages_round_trip() {
        let update_bytes = text_update();
        let sv = Update::decode_v1(&update_bytes).unwrap().state_vector();
        assert_eq!(decode(&sync_step1(sv.clone())).unwrap(), vec![Inbound::SyncStep1(sv)]);
        assert_eq!(
            decode(&sync_step2(update_bytes.clone())).unwrap(),
            vec![Inbound::SyncStep2(update_bytes.clone())]
        );
        let decoded = decode(&update(update_bytes.clone())).unwrap();
        let [Inbound::Update(bytes)] = decoded.as_slice() else { panic!("{decoded:?}") };
        let doc = Doc::new();
        doc.transact_mut().apply_update(Update::decode_v1(bytes).unwrap()).unwrap();
        assert_eq!(doc.get_or_insert_text("t").get_string(&doc.transact()), "hello");
    }

    #[test]
    fn borrowed_update_messages_match_the_owned_encoding() {
        for update_bytes in [text_update(), vec![], vec![7; 300]] {
            assert_eq!(update_message(&update_bytes), update(update_bytes.clone()));
        }
    }

    #[test]
    fn y_websocket_wire_bytes_decode() {
        // What the npm client sends first: sync step 1 with an empty state vector, then a query.
        assert_eq!(decode(&[0, 0, 1, 0]).unwrap(), vec![Inbound::SyncStep1(StateVector::default())]);
        assert_eq!(decode(&[3]).unwrap(), vec![Inbound::QueryAwareness]);
        assert_eq!(decode(&[2, 1]).unwrap(), vec![Inbound::Auth]);
        assert_eq!(decode(&[2, 0, 2, b'n', b'o']).unwrap(), vec![Inbound::Auth]);
    }

    #[test]
    fn several_messages_in_one_frame_and_unknown_types_stop_decoding() {
        let mut frame = sync_step1(StateVector::default());
        frame.extend(awareness(AwarenessUpdate { clients: HashMap::new() }));
        frame.extend([100, 5, 0, 0]);
        let decoded = decode(&frame).unwrap();
        assert_eq!(decoded.len(), 3);
        assert!(matches!(decoded[1], Inbound::Awareness(_)));
        assert_eq!(decoded[2], Inbound::Unknown(100));
    }

    #[test]
    fn awareness_round_trips() {
        let entry = AwarenessUpdateEntry { clock: 3, json: r#"{"user":"a"}"#.into() };
        let update = AwarenessUpdate { clients: HashMap::from([(ClientID::new(9), entry)]) };
        assert_eq!(decode(&awareness(update.clone())).unwrap(), vec![Inbound::Awareness(update)]);
    }

    #[test]
    fn truncated_and_invalid_messages_are_errors() {
        assert!(decode(&[0]).is_err());
        assert!(decode(&[0, 9, 0]).is_err(), "unknown sync step");
        assert!(decode(&[0, 2, 10, 1, 2]).is_err(), "update shorter than its length");
        assert!(decode(&[1, 5, 1]).is_err(), "awareness shorter than its length");
        assert!(decode(&[0x80]).is_err(), "truncated var uint");
    }

    #[test]
    fn updates_decode_or_fail_cleanly() {
        assert!(decode_update(&text_update()).is_ok());
        assert!(decode_update(&[1, 2, 3, 200, 200, 200]).is_err());
        assert!(decode_update(&[]).is_err());
    }

    #[test]
    fn only_updates_and_step2_bear_content() {
        assert!(Inbound::Update(vec![]).bears_content());
        assert!(Inbound::SyncStep2(vec![]).bears_content());
        assert!(!Inbound::SyncStep1(StateVector::default()).bears_content());
        assert!(!Inbound::QueryAwareness.bears_content());
    }
}
