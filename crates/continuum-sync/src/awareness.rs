//! Awareness fan-out coalesced per tick: which client states changed since the last flush, and
//! how states are cut into messages; the per-document task that flushes them is
//! [`crate::awareness_ticker::AwarenessTicker`].
//!
//! Relaying every awareness change to every peer at once costs O(N) messages per change, so N
//! clients joining or leaving together cost O(N²). Instead a change only marks its client ids;
//! at most once per [`crate::SyncConfig::awareness_tick`] the document sends each peer one
//! message carrying every marked client's current state (or its removal).

use std::collections::{BTreeSet, HashMap};

use tokio::sync::mpsc;
use yrs::ClientID;
use yrs::sync::AwarenessUpdate;

use crate::protocol;

/// The most bytes of client states one awareness message carries (a larger single state goes
/// alone). A message that carries every state of a busy document grows with its clients, and a
/// socket's write buffer keeps the capacity of the largest message it wrote: 1,000 clients made
/// greetings of about 46 KB, kept by every socket. Several messages apply exactly as one does
/// (each state carries its own clock), so the states are cut into messages of about this size.
pub(crate) const MAX_STATES_BYTES: usize = 1024;

/// Bytes counted per state besides its JSON: the client id, clock and length as var uints.
const STATE_OVERHEAD: usize = 16;

/// `update` as awareness messages of at most [`MAX_STATES_BYTES`] of states each, in client id
/// order; one empty message when `update` has no state (the answer to a query is never nothing).
pub(crate) fn messages(update: AwarenessUpdate) -> Vec<Vec<u8>> {
    let mut clients: Vec<_> = update.clients.into_iter().collect();
    clients.sort_unstable_by_key(|(client, _)| *client);
    let mut messages = Vec::new();
    let mut chunk = HashMap::new();
    let mut bytes = 0;
    for (client, entry) in clients {
        let size = entry.json.len() + STATE_OVERHEAD;
        if !chunk.is_empty() && bytes + size > MAX_STATES_BYTES {
            messages.push(protocol::awareness(AwarenessUpdate { clients: std::mem::take(&mut chunk) }));
            bytes = 0;
        }
        bytes += size;
        chunk.insert(client, entry);
    }
    if !chunk.is_empty() || messages.is_empty() {
        messages.push(protocol::awareness(AwarenessUpdate { clients: chunk }));
    }
    messages
}

/// The awareness client ids changed since the last flush.
///
/// Bounded by the document's awareness table (every marked id is in it, and a peer introduces
/// at most [`crate::state::MAX_CLIENTS_PER_PEER`]); marking an id twice keeps one entry.
pub(crate) struct PendingAwareness {
    changed: BTreeSet<ClientID>,
    /// Capacity 1: full means a flush is already due, which covers this change too.
    wake: mpsc::Sender<()>,
}

impl PendingAwareness {
    pub fn new(wake: mpsc::Sender<()>) -> Self {
        Self { changed: BTreeSet::new(), wake }
    }

    /// Marks `clients` as changed and makes sure a flush is due.
    pub fn mark(&mut self, clients: impl IntoIterator<Item = ClientID>) {
        let before = self.changed.len();
        self.changed.extend(clients);
        if self.changed.len() > before {
            // Full: a flush is already due. Closed: the ticker is gone with the document.
            let _ = self.wake.try_send(());
        }
    }

    /// The marked ids, leaving none marked.
    pub fn take(&mut self) -> BTreeSet<ClientID> {
        std::mem::take(&mut self.changed)
    }
}

#[cfg(test)]
mod tests {
    use yrs::sync::awareness::AwarenessUpdateEntry;

    use super::*;
    use crate::protocol::{Inbound, decode};

    fn states(count: u64, json_len: usize) -> AwarenessUpdate {
        let entry = |i: u64| AwarenessUpdateEntry {
            clock: 1,
            json: format!("\"{}\"", "x".repeat(json_len + i as usize % 3)).into(),
        };
        AwarenessUpdate { clients: (0..count).map(|i| (ClientID::new(i), entry(i))).collect() }
    }

    fn decoded(messages: &[Vec<u8>]) -> Vec<AwarenessUpdate> {
        messages
            .iter()
            .map(|message| match decode(message).unwrap().as_slice() {
                [Inbound::Awareness(update)] => update.clone(),
                other => panic!("one awareness message: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn many_states_are_cut_into_bounded_messages_that_carry_each_state_once() {
        let update = states(1000, 40);
        let messages = messages(update.clone());
        assert!(messages.len() > 1);
        for message in &messages {
            assert!(message.len() <= MAX_STATES_BYTES + 64, "{} bytes", message.len());
        }
        let mut merged = HashMap::new();
        for part in decoded(&messages) {
            for (client, entry) in part.clients {
                assert!(merged.insert(client, entry).is_none(), "client {client} twice");
            }
        }
        assert_eq!(merged, update.clients);
    }

    #[test]
    fn a_few_states_stay_one_message_and_none_is_one_empty_message() {
        assert_eq!(messages(states(3, 10)).len(), 1);
        let empty = messages(AwarenessUpdate { clients: HashMap::new() });
        assert_eq!(decoded(&empty).len(), 1);
        assert!(decoded(&empty)[0].clients.is_empty());
    }

    #[test]
    fn a_state_larger_than_the_bound_goes_alone() {
        let mut update = states(2, 10);
        let big = AwarenessUpdateEntry {
            clock: 1,
            json: format!("\"{}\"", "y".repeat(MAX_STATES_BYTES * 2)).into(),
        };
        update.clients.insert(ClientID::new(1), big);
        let parts = decoded(&messages(update));
        assert_eq!(parts.iter().map(|part| part.clients.len()).collect::<Vec<_>>(), vec![1, 1]);
    }
}
