//! The document check: every edit acknowledged as `cloud` is in the document at the end.

use std::collections::{BTreeMap, BTreeSet};

use super::{CheckReport, Violation, ViolationKind};
use crate::history::{DocRef, Op, Outcome, Record};

/// Checks every document of `history` into `report`.
pub(crate) fn check_docs(history: &[Record], report: &mut CheckReport) {
    let mut edits: BTreeMap<&DocRef, Vec<(&str, &Record)>> = BTreeMap::new();
    let mut finals: BTreeMap<&DocRef, Vec<&Record>> = BTreeMap::new();
    for record in history {
        match (&record.op, &record.outcome) {
            (Op::DocEdit { doc, key }, Outcome::Ok(_)) => edits.entry(doc).or_default().push((key, record)),
            (Op::DocRead { doc }, _) if record.final_read => finals.entry(doc).or_default().push(record),
            _ => {}
        }
    }
    for (doc, edits) in edits {
        let reads = finals.remove(doc).unwrap_or_default();
        let answered: Vec<&Record> = reads.iter().copied().filter(|read| read.outcome.is_ok()).collect();
        if answered.is_empty() {
            report.counts.unchecked += 1;
            continue;
        }
        for read in answered {
            let Some(observed) = read.outcome.observed() else { continue };
            let keys: BTreeSet<&str> = observed.doc_keys.iter().map(String::as_str).collect();
            for (key, edit) in &edits {
                if !keys.contains(key) {
                    report.push(Violation {
                        kind: ViolationKind::LostDocEdit,
                        subject: doc.0.clone(),
                        ops: vec![edit.id, read.id],
                        detail: format!(
                            "edit {key} acknowledged on {}, missing from the document read on {}",
                            edit.route, read.route
                        ),
                    });
                }
            }
        }
    }
}
