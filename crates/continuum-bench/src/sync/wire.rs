//! The y-websocket frames of `/v1/sync`: encoding what the bench sends, and reading what it
//! receives without copying update payloads (a writer on a busy document receives every other
//! writer's updates and only needs to see that they are not acks).
//!
//! The message codes are [`continuum_core::ywire`]'s, the ones the server reads and writes; the
//! messages the bench sends are encoded by yrs, the protocol's reference implementation in Rust.

use continuum_core::ywire::{
    MSG_ACK, MSG_AUTH, MSG_AWARENESS, MSG_QUERY_AWARENESS, MSG_SYNC, SYNC_STEP_1, SYNC_STEP_2, SYNC_UPDATE,
};
use yrs::ClientID;
use yrs::StateVector;
use yrs::sync::awareness::AwarenessUpdateEntry;
use yrs::sync::{AwarenessUpdate, Message, SyncMessage};
use yrs::updates::decoder::Decode as _;
use yrs::updates::encoder::Encode as _;

/// One protocol message received from the server.
#[derive(Debug, PartialEq)]
pub enum Inbound<'a> {
    /// The server's state vector: what it asks for.
    SyncStep1(StateVector),
    /// What the server has and this socket's state vector lacked: the v1 update.
    SyncStep2(&'a [u8]),
    /// A change another socket made: the v1 update.
    Update(&'a [u8]),
    /// The count of this socket's content-bearing messages that are durable.
    Ack(u64),
    /// Awareness, auth or an awareness query: not used by the bench.
    Other(u64),
}

/// Why a frame is not y-websocket.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The frame ends inside a message.
    #[error("the frame ends inside a message")]
    Truncated,
    /// A sync message of a kind y-websocket does not have.
    #[error("unknown sync message kind {0}")]
    UnknownSyncKind(u64),
    /// A state vector that does not decode.
    #[error("invalid state vector")]
    StateVector(#[source] yrs::encoding::read::Error),
    /// A message type the bench does not know, whose length it cannot tell.
    #[error("unknown message type {0}")]
    UnknownType(u64),
}

/// `[0, 0, state vector]`: asks the server for what `state_vector` lacks.
pub fn sync_step1(state_vector: &StateVector) -> Vec<u8> {
    Message::Sync(SyncMessage::SyncStep1(state_vector.clone())).encode_v1()
}

/// `[1, awareness update]`: client `client`'s awareness state `json` at `clock`, as a
/// y-websocket client announces itself.
pub fn awareness(client: u64, clock: u32, json: &str) -> Vec<u8> {
    let entry = AwarenessUpdateEntry { clock, json: json.into() };
    let clients = std::iter::once((ClientID::new(client), entry)).collect();
    Message::Awareness(AwarenessUpdate { clients }).encode_v1()
}

/// `[0, 2, update]`: a change made by the bench.
pub fn update(update: Vec<u8>) -> Vec<u8> {
    Message::Sync(SyncMessage::Update(update)).encode_v1()
}

/// The protocol messages of one WebSocket frame, in order. An ack takes the rest of its frame.
pub fn messages(frame: &[u8]) -> Messages<'_> {
    Messages { frame, pos: 0, failed: false }
}

/// The iterator of [`messages`]; it stops after the first error.
#[derive(Debug)]
pub struct Messages<'a> {
    frame: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<Inbound<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.frame.len() {
            return None;
        }
        let next = self.decode_one();
        self.failed = next.is_err();
        Some(next)
    }
}

impl<'a> Messages<'a> {
    fn var(&mut self) -> Result<u64, WireError> {
        read_var(self.frame, &mut self.pos).ok_or(WireError::Truncated)
    }

    fn buf(&mut self) -> Result<&'a [u8], WireError> {
        let len = usize::try_from(self.var()?).map_err(|_| WireError::Truncated)?;
        let end =
            self.pos.checked_add(len).filter(|end| *end <= self.frame.len()).ok_or(WireError::Truncated)?;
        let buf = &self.frame[self.pos..end];
        self.pos = end;
        Ok(buf)
    }

    fn decode_one(&mut self) -> Result<Inbound<'a>, WireError> {
        Ok(match self.var()? {
            MSG_SYNC => match self.var()? {
                SYNC_STEP_1 => {
                    Inbound::SyncStep1(StateVector::decode_v1(self.buf()?).map_err(WireError::StateVector)?)
                }
                SYNC_STEP_2 => Inbound::SyncStep2(self.buf()?),
                SYNC_UPDATE => Inbound::Update(self.buf()?),
                kind => return Err(WireError::UnknownSyncKind(kind)),
            },
            MSG_ACK => {
                // The count is the last varUint of the frame, whatever comes before it.
                let mut last = None;
                while self.pos < self.frame.len() {
                    last = Some(self.var()?);
                }
                Inbound::Ack(last.ok_or(WireError::Truncated)?)
            }
            MSG_AWARENESS => {
                self.buf()?;
                Inbound::Other(MSG_AWARENESS)
            }
            MSG_AUTH => {
                if self.var()? == 0 {
                    self.buf()?; // the reason a permission was denied
                }
                Inbound::Other(MSG_AUTH)
            }
            MSG_QUERY_AWARENESS => Inbound::Other(MSG_QUERY_AWARENESS),
            other => return Err(WireError::UnknownType(other)),
        })
    }
}

/// Reads a lib0 varUint (7 bits per byte, least significant first, high bit on every byte but the
/// last) at `pos` and advances past it; `None` when it is truncated or longer than 64 bits.
pub fn read_var(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The messages of `frame`, errors as their text.
    fn decode(frame: &[u8]) -> Vec<Result<Inbound<'_>, String>> {
        messages(frame).map(|message| message.map_err(|error| error.to_string())).collect()
    }

    #[test]
    fn sync_messages_round_trip_through_yrs_encoding() {
        let sv = StateVector::from_iter([(yrs::ClientID::new(7), 3)]);
        assert_eq!(decode(&sync_step1(&sv)), [Ok(Inbound::SyncStep1(sv))]);
        assert_eq!(decode(&update(vec![1, 2, 3])), [Ok(Inbound::Update(&[1, 2, 3][..]))]);
        let step2 = Message::Sync(SyncMessage::SyncStep2(vec![9; 200])).encode_v1();
        assert_eq!(decode(&step2), [Ok(Inbound::SyncStep2(&[9u8; 200][..]))]);
    }

    #[test]
    fn acks_take_the_last_var_uint() {
        // The ack as the server encodes it.
        let ack = continuum_sync::encode_ack(300);
        assert_eq!(ack, [100, 0xac, 0x02]);
        assert_eq!(decode(&ack), [Ok(Inbound::Ack(300))]);
        // A framing with more fields before the count still yields the count.
        assert_eq!(decode(&[100, 2, 5, 7]), [Ok(Inbound::Ack(7))]);
        assert_eq!(decode(&[100]), [Err("the frame ends inside a message".to_owned())]);
        assert_eq!(decode(&[100, 0x80]), [Err("the frame ends inside a message".to_owned())]);
    }

    #[test]
    fn what_the_bench_sends_is_what_the_server_encodes() {
        let sv = StateVector::from_iter([(yrs::ClientID::new(7), 3)]);
        assert_eq!(sync_step1(&sv), continuum_sync::protocol::sync_step1(sv.clone()));
        assert_eq!(update(vec![1, 2, 3]), continuum_sync::protocol::update(vec![1, 2, 3]));
        let entry = AwarenessUpdateEntry { clock: 2, json: "{}".into() };
        let clients = std::iter::once((ClientID::new(9), entry)).collect();
        assert_eq!(awareness(9, 2, "{}"), continuum_sync::protocol::awareness(AwarenessUpdate { clients }));
    }

    #[test]
    fn several_messages_in_one_frame() {
        let mut frame = sync_step1(&StateVector::default());
        frame.extend(update(vec![4]));
        frame.extend([1, 2, 0xaa, 0xbb]); // awareness with a 2-byte payload
        frame.extend([3]);
        frame.extend([100, 5]);
        let decoded = decode(&frame);
        assert_eq!(
            decoded,
            [
                Ok(Inbound::SyncStep1(StateVector::default())),
                Ok(Inbound::Update(&[4][..])),
                Ok(Inbound::Other(1)),
                Ok(Inbound::Other(3)),
                Ok(Inbound::Ack(5)),
            ]
        );
    }

    #[test]
    fn broken_frames_are_errors_and_stop_the_iteration() {
        assert_eq!(decode(&[0, 9, 0]), [Err("unknown sync message kind 9".to_owned())]);
        assert_eq!(decode(&[0, 2, 5, 1]), [Err("the frame ends inside a message".to_owned())]);
        assert_eq!(decode(&[42, 0, 0, 1, 0]), [Err("unknown message type 42".to_owned())]);
        assert_eq!(decode(&[0, 0, 2, 0xff, 0xff]).len(), 1);
        assert!(decode(&[]).is_empty());
    }

    #[test]
    fn var_uints_are_bounded() {
        let mut pos = 0;
        assert_eq!(read_var(&[0xff; 11], &mut pos), None, "longer than 64 bits");
        let mut pos = 1;
        assert_eq!(read_var(&[0, 0x80, 0x01], &mut pos), Some(128));
        assert_eq!(pos, 3);
    }
}
