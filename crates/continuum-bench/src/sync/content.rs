//! What the bench writes into documents and reads back: [`MapWriter`] makes updates that set keys
//! of one root `Y.Map`, [`Replica`] is a client's copy that applies what the server sends.

use std::sync::Arc;

use yrs::updates::decoder::Decode as _;
use yrs::{Any, Doc, Map as _, MapRef, Out, ReadTxn as _, StateVector, Transact as _, Update};

/// The root map every bench document uses.
pub const MAP: &str = "bench";

/// The key of the fan-out sequence number.
pub const SEQ_KEY: &str = "seq";

/// The key of the fan-out send time, in microseconds since the scenario's start.
pub const SENT_KEY: &str = "t";

/// A document the bench writes to; each change is one transaction whose update is sent as is.
#[derive(Debug)]
pub struct MapWriter {
    doc: Doc,
    map: MapRef,
}

impl Default for MapWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl MapWriter {
    /// An empty document with a random client id, as every browser tab has.
    pub fn new() -> Self {
        let doc = Doc::new();
        let map = doc.get_or_insert_map(MAP);
        Self { doc, map }
    }

    /// Sets `entries` in one transaction and returns its v1 update.
    pub fn set<'a>(&mut self, entries: impl IntoIterator<Item = (&'a str, Any)>) -> Vec<u8> {
        let mut txn = self.doc.transact_mut();
        for (key, value) in entries {
            self.map.insert(&mut txn, Arc::<str>::from(key), value);
        }
        txn.encode_update_v1()
    }

    /// Sets the fan-out stamp: update number `seq`, sent `sent_us` microseconds after the start.
    pub fn stamp(&mut self, seq: u64, sent_us: u64) -> Vec<u8> {
        self.set([(SEQ_KEY, Any::from(seq as f64)), (SENT_KEY, Any::from(sent_us as f64))])
    }
}

/// Why an update from the server does not apply.
#[derive(Debug, thiserror::Error)]
pub enum ReplicaError {
    /// It does not decode as a v1 update.
    #[error("the update does not decode")]
    Decode(#[source] yrs::encoding::read::Error),
    /// It decodes but cannot be integrated.
    #[error("the update does not apply")]
    Apply(#[source] yrs::error::UpdateError),
}

/// A client's copy of a document: it applies sync step 2 and updates from the server.
#[derive(Debug)]
pub struct Replica {
    doc: Doc,
    map: MapRef,
}

impl Default for Replica {
    fn default() -> Self {
        Self::new()
    }
}

impl Replica {
    /// An empty copy.
    pub fn new() -> Self {
        let doc = Doc::new();
        let map = doc.get_or_insert_map(MAP);
        Self { doc, map }
    }

    /// What this copy has: the state vector a (re)connecting client sends in sync step 1.
    pub fn state_vector(&self) -> StateVector {
        self.doc.transact().state_vector()
    }

    /// Applies a v1 update (sync step 2 or a relayed update).
    pub fn apply(&mut self, update: &[u8]) -> Result<(), ReplicaError> {
        let update = Update::decode_v1(update).map_err(ReplicaError::Decode)?;
        self.doc.transact_mut().apply_update(update).map_err(ReplicaError::Apply)
    }

    /// How many keys the map has.
    pub fn len(&self) -> u32 {
        self.map.len(&self.doc.transact())
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number at `key`, if it holds one.
    pub fn number(&self, key: &str) -> Option<f64> {
        match self.map.get(&self.doc.transact(), key)? {
            Out::Any(Any::Number(number)) => number.as_f64(),
            _ => None,
        }
    }

    /// The fan-out stamp, `(seq, sent_us)`, once one arrived.
    pub fn stamp(&self) -> Option<(u64, u64)> {
        Some((self.number(SEQ_KEY)? as u64, self.number(SENT_KEY)? as u64))
    }

    /// The size of the whole document as one v1 update: what a client with nothing gets.
    pub fn full_state_len(&self) -> usize {
        self.doc.transact().encode_state_as_update_v1(&StateVector::default()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_replay_on_a_replica_in_order() {
        let mut writer = MapWriter::new();
        let mut replica = Replica::new();
        assert!(replica.is_empty() && replica.stamp().is_none());
        for seq in 0..5 {
            replica.apply(&writer.stamp(seq, 1_000 + seq)).unwrap();
            assert_eq!(replica.stamp(), Some((seq, 1_000 + seq)));
        }
        assert_eq!(replica.len(), 2, "overwrites keep two keys");
        replica.apply(&writer.set([("a", Any::from("x")), ("b", Any::from("y"))])).unwrap();
        assert_eq!(replica.len(), 4);
        assert_eq!(replica.number("a"), None, "a string is not a number");
    }

    #[test]
    fn a_reconnecting_replica_needs_only_what_it_missed() {
        let mut writer = MapWriter::new();
        let server = Replica::new();
        let mut client = Replica::new();
        for i in 0..100 {
            let update = writer.set([(format!("k{i}").as_str(), Any::from("value"))]);
            server.doc.transact_mut().apply_update(Update::decode_v1(&update).unwrap()).unwrap();
        }
        let full = server.doc.transact().encode_state_as_update_v1(&client.state_vector());
        client.apply(&full).unwrap();
        assert_eq!(client.len(), 100);
        let update = writer.set([("k100", Any::from("value"))]);
        server.doc.transact_mut().apply_update(Update::decode_v1(&update).unwrap()).unwrap();
        let missed = server.doc.transact().encode_state_as_update_v1(&client.state_vector());
        assert!(missed.len() * 10 < full.len(), "{} vs {}", missed.len(), full.len());
        client.apply(&missed).unwrap();
        assert_eq!(client.len(), 101);
        assert!(client.full_state_len() > full.len());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(matches!(Replica::new().apply(&[0xff, 0xff, 0xff]), Err(ReplicaError::Decode(_))));
    }
}
