//! [`Upstream`]: which of the edge's appends have reached the origin — the check behind the
//! cloud acks an edge sends after its `edge` acks. Pure bookkeeping under one lock.
//!
//! An append is known by its document and its sequence number in the edge's local log; it
//! reaches the origin when the origin's mark covers the queue seq it was pushed with. What was
//! queued before this process started is known only by document and queue seq (the local seqs
//! of a past run are not kept): a document with such an entry counts as not there yet until
//! the mark covers it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use continuum_core::DocKey;

#[derive(Debug, Default)]
struct State {
    /// The origin's mark, as last acknowledged.
    acked: u64,
    /// Per document: local seq → queue seq, of appends the mark does not cover yet.
    pending: HashMap<DocKey, BTreeMap<u64, u64>>,
    /// Per document: the highest queue seq of entries queued before this process started.
    before_start: HashMap<DocKey, u64>,
}

/// The bookkeeping. Shared behind an `Arc` by the document store and the replayer.
#[derive(Debug, Default)]
pub struct Upstream {
    state: Mutex<State>,
}

impl Upstream {
    /// Starting with the origin's mark `acked` and the entries queued before (document, seq).
    pub fn new(acked: u64, queued: impl IntoIterator<Item = (DocKey, u64)>) -> Self {
        let mut before_start: HashMap<DocKey, u64> = HashMap::new();
        for (key, seq) in queued {
            let highest = before_start.entry(key).or_default();
            *highest = (*highest).max(seq);
        }
        Self { state: Mutex::new(State { acked, before_start, ..State::default() }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The append `local` of `key` was pushed to the queue as `queue`.
    pub fn record(&self, key: &DocKey, local: u64, queue: u64) {
        let mut state = self.lock();
        if queue > state.acked {
            state.pending.entry(key.clone()).or_default().insert(local, queue);
        }
    }

    /// Whether every append of `key` through local seq `local` has reached the origin.
    pub fn reached(&self, key: &DocKey, local: u64) -> bool {
        let state = self.lock();
        !state.before_start.contains_key(key)
            && state.pending.get(key).is_none_or(|pending| pending.range(..=local).next().is_none())
    }

    /// The origin's mark is `mark` now; returns the documents with appends it newly covers.
    pub fn acknowledged(&self, mark: u64) -> Vec<DocKey> {
        let mut state = self.lock();
        state.acked = state.acked.max(mark);
        let mut advanced = Vec::new();
        state.pending.retain(|key, pending| {
            let before = pending.len();
            pending.retain(|_, queue| *queue > mark);
            if pending.len() < before {
                advanced.push(key.clone());
            }
            !pending.is_empty()
        });
        state.before_start.retain(|key, queue| {
            let covered = *queue <= mark;
            if covered && !advanced.contains(key) {
                advanced.push(key.clone());
            }
            !covered
        });
        advanced
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> DocKey {
        DocKey::parse("user:alice", name).unwrap()
    }

    #[test]
    fn an_append_reaches_the_origin_when_the_mark_covers_its_queue_seq() {
        let upstream = Upstream::new(0, []);
        upstream.record(&key("a"), 1, 10);
        upstream.record(&key("a"), 2, 12);
        upstream.record(&key("b"), 1, 11);
        assert!(!upstream.reached(&key("a"), 1));
        assert_eq!(upstream.acknowledged(10), [key("a")]);
        assert!(upstream.reached(&key("a"), 1), "seq 1 is covered");
        assert!(!upstream.reached(&key("a"), 2), "seq 2 is not");
        assert!(!upstream.reached(&key("b"), 5));
        let mut advanced = upstream.acknowledged(12);
        advanced.sort();
        assert_eq!(advanced, [key("a"), key("b")]);
        assert!(upstream.reached(&key("a"), 99) && upstream.reached(&key("b"), 1));
        upstream.record(&key("a"), 3, 12);
        assert!(upstream.reached(&key("a"), 3), "recorded after the mark covered it");
    }

    #[test]
    fn what_was_queued_before_the_start_holds_its_document_until_covered() {
        let upstream = Upstream::new(4, [(key("a"), 5), (key("a"), 7)]);
        assert!(!upstream.reached(&key("a"), 1));
        assert!(upstream.reached(&key("b"), 1), "nothing of b was queued");
        assert!(upstream.acknowledged(6).is_empty());
        assert_eq!(upstream.acknowledged(7), [key("a")]);
        assert!(upstream.reached(&key("a"), 1));
    }
}
