//! [`Unsent`]: the documents with appends that found the announcement queue full — what is
//! still owed to the other nodes, as one announcement without bytes per document.

use std::collections::HashMap;

use continuum_core::DocKey;
use continuum_store::Notice;

/// The documents whose latest appends were not queued, each with the last sequence number seen.
///
/// Bounded by the number of documents appending on this node (each one is live here), however
/// many appends are dropped: a document owes the other nodes one announcement, "read my log",
/// which covers every append it missed.
#[derive(Debug, Default)]
pub(crate) struct Unsent {
    latest: HashMap<DocKey, u64>,
}

impl Unsent {
    /// Notes that the append `seq` of `key` was not queued.
    pub fn note(&mut self, key: &DocKey, seq: u64) {
        match self.latest.get_mut(key) {
            Some(latest) => *latest = (*latest).max(seq),
            None => {
                self.latest.insert(key.clone(), seq);
            }
        }
    }

    /// What is owed, emptied: one [`Notice::DocAppended`] without bytes per document (its
    /// receivers read the log from the store), in key order.
    pub fn take(&mut self) -> Vec<Notice> {
        let mut owed: Vec<_> = self.latest.drain().collect();
        owed.sort_by(|a, b| a.0.cmp(&b.0));
        owed.into_iter().map(|(key, seq)| Notice::DocAppended { key, seq, update: None }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> DocKey {
        DocKey::parse("user:alice", name).unwrap()
    }

    #[test]
    fn one_announcement_per_document_with_its_latest_sequence_number() {
        let mut unsent = Unsent::default();
        assert!(unsent.take().is_empty());
        for (name, seq) in [("b", 3), ("a", 7), ("b", 5), ("b", 4)] {
            unsent.note(&key(name), seq);
        }
        assert_eq!(
            unsent.take(),
            vec![
                Notice::DocAppended { key: key("a"), seq: 7, update: None },
                Notice::DocAppended { key: key("b"), seq: 5, update: None },
            ]
        );
        assert!(unsent.take().is_empty(), "taking empties it");
    }
}
