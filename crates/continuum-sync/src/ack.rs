//! Durability acks: the one message Continuum adds to the y-websocket protocol.
//!
//! ```text
//! [varUint 100][varUint n]
//! ```
//!
//! Both numbers are lib0 variable-length unsigned integers (7 bits per byte, least significant
//! group first, high bit set on every byte but the last), so the tag is the single byte `0x64`.
//! `n` counts the peer's content-bearing messages — every sync `Update` and every `SyncStep2` it
//! sent on this connection, from 1 — and says that the first `n` of them are durable in the
//! store. Acks are cumulative: a peer may receive `n = 3` without `1` and `2`, and never a smaller
//! `n` after a larger one. Only peers connected with `PeerOptions { acks: true }` receive them.
//!
//! An edge (`continuum edge`) sends the same message with type 101, `[varUint 101][varUint n]`:
//! the first `n` are in the edge's durable queue (fsynced on the edge's disk) — durability level
//! `edge`, between the browser's `local` and the origin's `cloud` (type 100). Which one a
//! registry sends is [`crate::SyncConfig::ack_message`].

use std::collections::BTreeMap;

use yrs::encoding::read::{Cursor, Read};
use yrs::encoding::write::Write;

/// The message type of a durability ack (defined with the other y-websocket codes in
/// [`continuum_core::ywire`]).
pub use continuum_core::ywire::{MSG_ACK, MSG_ACK_EDGE};

/// Encodes the ack saying that the peer's first `durable` content-bearing messages are durable.
pub fn encode_ack(durable: u64) -> Vec<u8> {
    encode_ack_as(MSG_ACK, durable)
}

/// Encodes an ack of type `tag` ([`MSG_ACK`] or [`MSG_ACK_EDGE`]) for `durable` messages.
pub fn encode_ack_as(tag: u64, durable: u64) -> Vec<u8> {
    let mut message = Vec::with_capacity(11);
    message.write_var(tag);
    message.write_var(durable);
    message
}

/// The count carried by an ack message, or `None` if `message` is not exactly one ack.
pub fn decode_ack(message: &[u8]) -> Option<u64> {
    let mut cursor = Cursor::new(message);
    let tag: u64 = cursor.read_var().ok()?;
    if tag != MSG_ACK {
        return None;
    }
    let durable: u64 = cursor.read_var().ok()?;
    (!cursor.has_content()).then_some(durable)
}

/// The highest count per peer among `acks`: one cumulative ack per peer covers them all.
pub(crate) fn latest_per_peer<P: Ord>(acks: impl IntoIterator<Item = (P, u64)>) -> BTreeMap<P, u64> {
    let mut latest = BTreeMap::new();
    for (peer, durable) in acks {
        let entry = latest.entry(peer).or_insert(durable);
        *entry = (*entry).max(durable);
    }
    latest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_are_two_bytes() {
        assert_eq!(encode_ack(1), vec![100, 1]);
        assert_eq!(encode_ack(127), vec![100, 127]);
    }

    #[test]
    fn large_counts_use_lib0_var_uints() {
        assert_eq!(encode_ack(128), vec![100, 0x80, 0x01]);
        assert_eq!(encode_ack(300), vec![100, 0xac, 0x02]);
        for n in [0, 1, 127, 128, 16_383, 16_384, u32::MAX as u64, u64::MAX] {
            assert_eq!(decode_ack(&encode_ack(n)), Some(n), "{n}");
        }
    }

    #[test]
    fn an_edge_ack_is_type_101_and_not_a_cloud_ack() {
        assert_eq!(encode_ack_as(MSG_ACK_EDGE, 3), vec![101, 3]);
        assert_eq!(decode_ack(&encode_ack_as(MSG_ACK_EDGE, 3)), None);
        assert_eq!(encode_ack_as(MSG_ACK, 300), encode_ack(300));
    }

    #[test]
    fn other_messages_are_not_acks() {
        assert_eq!(decode_ack(&[0, 0, 1, 0]), None, "a sync step 1");
        assert_eq!(decode_ack(&[1, 0]), None, "an awareness update");
        assert_eq!(decode_ack(&[100]), None, "truncated");
        assert_eq!(decode_ack(&[100, 0x80]), None, "truncated var uint");
        assert_eq!(decode_ack(&[100, 1, 0]), None, "trailing bytes");
        assert_eq!(decode_ack(&[]), None);
    }

    #[test]
    fn one_ack_per_peer_carries_the_highest_count() {
        let latest = latest_per_peer([(1, 3), (2, 1), (1, 5), (1, 4)]);
        assert_eq!(latest.into_iter().collect::<Vec<_>>(), vec![(1, 5), (2, 1)]);
    }
}
