//! [`RelayMetrics`]: what the relay counts, for a metrics endpoint to show.

use std::sync::atomic::{AtomicU64, Ordering};

/// The relay's counters. Shared by the relay's tasks and its [`crate::RelayHandle`].
#[derive(Debug, Default)]
pub struct RelayMetrics {
    appends_without_bytes: AtomicU64,
}

impl RelayMetrics {
    /// How many document appends found the announcement queue full and had their bytes
    /// dropped: their documents were announced later without them, and the other nodes read
    /// the log instead (see [`crate::RelayConfig::append_capacity`]).
    pub fn appends_without_bytes(&self) -> u64 {
        self.appends_without_bytes.load(Ordering::Relaxed)
    }

    pub(crate) fn add_append_without_bytes(&self) {
        self.appends_without_bytes.fetch_add(1, Ordering::Relaxed);
    }
}
