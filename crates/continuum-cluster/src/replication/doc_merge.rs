//! What one copy of a document holds that another lacks, as one Yjs update — a decision without
//! I/O (the pieces are in memory).
//!
//! Copies of one document differ in form: the primary compacts its log into a snapshot, backups
//! keep every update. Comparing pieces byte for byte would append a backup's whole log to a
//! compacted primary again (the state is the same, the log and its sequence numbers are not), so
//! a node catching up compares *states*: it applies the other copy's difference against its own
//! state vector and keeps it only if its state (inserts and deletions) changed.

use continuum_store::StoredDoc;
use yrs::updates::decoder::Decode;
use yrs::{Doc, ReadTxn, Transact, Update};

/// A piece of a stored document that does not decode as a Yjs update.
#[derive(Debug, thiserror::Error)]
#[error("a stored piece of the document is not a Yjs update")]
pub struct Malformed(#[source] pub Box<dyn std::error::Error + Send + Sync>);

fn doc_of(stored: &StoredDoc) -> Result<Doc, Malformed> {
    let doc = Doc::new();
    {
        let mut txn = doc.transact_mut();
        for piece in stored.snapshot.iter().chain(&stored.updates) {
            let update = Update::decode_v1(piece).map_err(|error| Malformed(Box::new(error)))?;
            txn.apply_update(update).map_err(|error| Malformed(Box::new(error)))?;
        }
    }
    Ok(doc)
}

/// The update that brings `held` to everything `theirs` holds too, or `None` when `theirs` holds
/// nothing `held` lacks.
pub fn missing(held: &StoredDoc, theirs: &StoredDoc) -> Result<Option<Vec<u8>>, Malformed> {
    if theirs.is_empty() {
        return Ok(None);
    }
    let ours = doc_of(held)?;
    let (state, before) = {
        let txn = ours.transact();
        (txn.state_vector(), txn.snapshot())
    };
    let diff = doc_of(theirs)?.transact().encode_state_as_update_v1(&state);
    let update = Update::decode_v1(&diff).map_err(|error| Malformed(Box::new(error)))?;
    ours.transact_mut().apply_update(update).map_err(|error| Malformed(Box::new(error)))?;
    let after = ours.transact().snapshot();
    Ok((after != before).then_some(diff))
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Map, WriteTxn};

    /// A document's updates: each sets one key of the map `m`, starting from `from`'s state.
    fn edits(doc: &Doc, keys: &[&str]) -> Vec<Vec<u8>> {
        keys.iter()
            .map(|key| {
                let before = doc.transact().state_vector();
                {
                    let mut txn = doc.transact_mut();
                    let map = txn.get_or_insert_map("m");
                    map.insert(&mut txn, *key, 1);
                }
                doc.transact().encode_state_as_update_v1(&before)
            })
            .collect()
    }

    fn stored(snapshot: Option<Vec<u8>>, updates: Vec<Vec<u8>>) -> StoredDoc {
        StoredDoc { snapshot, updates, ..StoredDoc::default() }
    }

    #[test]
    fn a_compacted_copy_and_the_full_log_of_the_same_state_lack_nothing() {
        let doc = Doc::new();
        let log = edits(&doc, &["a", "b", "c"]);
        let snapshot = doc.transact().encode_state_as_update_v1(&Default::default());
        let compacted = stored(Some(snapshot), vec![]);
        let full = stored(None, log);
        assert!(missing(&compacted, &full).unwrap().is_none(), "byte for byte they differ, not in state");
        assert!(missing(&full, &compacted).unwrap().is_none());
    }

    #[test]
    fn edits_made_while_a_copy_was_away_are_what_it_lacks() {
        let doc = Doc::new();
        let before = edits(&doc, &["a", "b"]);
        let away = stored(None, before.clone());
        let mut all = before;
        all.extend(edits(&doc, &["c"]));
        let diff = missing(&away, &stored(None, all.clone())).unwrap().expect("c is missing");
        let mut merged = away.updates.clone();
        merged.push(diff);
        assert!(missing(&stored(None, merged), &stored(None, all)).unwrap().is_none());
    }

    #[test]
    fn a_deletion_alone_is_missing_too() {
        let doc = Doc::new();
        let log = edits(&doc, &["a"]);
        let before = doc.transact().state_vector();
        {
            let mut txn = doc.transact_mut();
            let map = txn.get_or_insert_map("m");
            map.remove(&mut txn, "a");
        }
        let removal = doc.transact().encode_state_as_update_v1(&before);
        let mut with_removal = log.clone();
        with_removal.push(removal);
        assert!(missing(&stored(None, log), &stored(None, with_removal)).unwrap().is_some());
    }

    #[test]
    fn a_piece_that_is_not_an_update_is_an_error() {
        assert!(missing(&stored(None, vec![vec![0xff, 0xff, 0xff]]), &stored(None, vec![vec![1]])).is_err());
    }
}
