//! [`Recorder`]: where clients put the records of the operations they finish.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::history::{Op, Outcome, Record};

/// The history being recorded, shared by every client of a run. Cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    began: Instant,
    next_id: Arc<AtomicU64>,
    records: Arc<Mutex<Vec<Record>>>,
}

/// An operation sent and not yet answered: its id and start.
#[derive(Clone, Copy, Debug)]
pub struct Started {
    id: u64,
    start_us: u64,
}

impl Recorder {
    /// A recorder whose times count from now.
    pub fn new() -> Self {
        Self { began: Instant::now(), next_id: Arc::new(AtomicU64::new(1)), records: Arc::default() }
    }

    /// µs since the run began.
    pub fn now_us(&self) -> u64 {
        u64::try_from(self.began.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// When the run began.
    pub fn began(&self) -> Instant {
        self.began
    }

    /// Marks an operation as sent now.
    pub fn start(&self) -> Started {
        Started { id: self.next_id.fetch_add(1, Ordering::Relaxed), start_us: self.now_us() }
    }

    /// Records the operation `started` as answered now.
    pub fn finish(
        &self,
        started: Started,
        client: u32,
        route: &str,
        op: Op,
        outcome: Outcome,
        final_read: bool,
    ) {
        let record = Record {
            id: started.id,
            client,
            route: route.to_owned(),
            start_us: started.start_us,
            end_us: self.now_us(),
            final_read,
            op,
            outcome,
        };
        self.records.lock().expect("no client panics while holding the history").push(record);
    }

    /// Every record so far, by id.
    pub fn records(&self) -> Vec<Record> {
        let mut records = self.records.lock().expect("no client panics while holding the history").clone();
        records.sort_by_key(|record| record.id);
        records
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}
