//! Hand-written histories for the checker's tests.

use crate::history::{DocRef, Observed, Op, Outcome, Record, SessionRef};

/// Builds a history one operation at a time, each 1 ms after the previous one ended.
#[derive(Default)]
pub(crate) struct Builder {
    pub records: Vec<Record>,
    clock: u64,
}

impl Builder {
    /// Appends an operation on `route` and returns its id.
    pub fn op(&mut self, route: &str, op: Op, outcome: Outcome) -> u64 {
        self.push(route, op, outcome, false)
    }

    /// Appends a final read.
    pub fn final_op(&mut self, route: &str, op: Op, outcome: Outcome) -> u64 {
        self.push(route, op, outcome, true)
    }

    /// Lets `ms` pass.
    pub fn wait_ms(&mut self, ms: u64) {
        self.clock += ms * 1_000;
    }

    fn push(&mut self, route: &str, op: Op, outcome: Outcome, final_read: bool) -> u64 {
        let id = self.records.len() as u64 + 1;
        let start_us = self.clock + 1_000;
        self.clock = start_us + 500;
        self.records.push(Record {
            id,
            client: 0,
            route: route.to_owned(),
            start_us,
            end_us: self.clock,
            final_read,
            op,
            outcome,
        });
        id
    }
}

pub(crate) fn s(name: &str) -> SessionRef {
    SessionRef(name.to_owned())
}

pub(crate) fn create(name: &str) -> Op {
    Op::Create { session: s(name), principal: "p".into(), sealed: false }
}

pub(crate) fn validate(name: &str) -> Op {
    Op::Validate { session: s(name) }
}

pub(crate) fn patch(name: &str, key: &str, value: u64) -> Op {
    Op::Patch { session: s(name), key: key.into(), value, if_match: None }
}

pub(crate) fn revoke(name: &str) -> Op {
    Op::Revoke { session: s(name) }
}

pub(crate) fn edit(doc: &str, key: &str) -> Op {
    Op::DocEdit { doc: DocRef(doc.into()), key: key.into() }
}

pub(crate) fn read_doc(doc: &str) -> Op {
    Op::DocRead { doc: DocRef(doc.into()) }
}

/// A success showing `version` and `attributes`.
pub(crate) fn ok(version: u64, attributes: &[(&str, u64)]) -> Outcome {
    Outcome::Ok(Observed {
        version: Some(version),
        attributes: attributes.iter().map(|(key, value)| ((*key).to_owned(), *value)).collect(),
        ..Observed::default()
    })
}

/// A document read showing `keys`.
pub(crate) fn doc_keys(keys: &[&str]) -> Outcome {
    Outcome::Ok(Observed {
        doc_keys: keys.iter().map(|key| (*key).to_owned()).collect(),
        ..Observed::default()
    })
}

pub(crate) fn refused(status: u16) -> Outcome {
    Outcome::Refused { status, problem: "unauthorized".into() }
}

pub(crate) fn unknown() -> Outcome {
    Outcome::Unknown { reason: "timeout".into() }
}
