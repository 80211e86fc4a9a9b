//! [`SyncMetrics`]: counters of what the sync engine did, and [`SyncSnapshot`], them together
//! with the gauges read at scrape time (queue depths), for a metrics endpoint to render.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters shared by every document of a [`crate::DocRegistry`]. Monotonic; read them with
/// [`crate::DocRegistry::metrics`].
#[derive(Debug, Default)]
pub struct SyncMetrics {
    detached_for_lag: AtomicU64,
    awareness_messages_out: AtomicU64,
    awareness_flushes: AtomicU64,
    updates_delivered: AtomicU64,
    updates_persisted: AtomicU64,
}

impl SyncMetrics {
    pub(crate) fn add_detached_for_lag(&self, peers: u64) {
        self.detached_for_lag.fetch_add(peers, Ordering::Relaxed);
    }

    pub(crate) fn add_awareness_flush(&self, messages: u64) {
        self.awareness_flushes.fetch_add(1, Ordering::Relaxed);
        self.awareness_messages_out.fetch_add(messages, Ordering::Relaxed);
    }

    pub(crate) fn add_updates_delivered(&self, messages: u64) {
        self.updates_delivered.fetch_add(messages, Ordering::Relaxed);
    }

    pub(crate) fn add_updates_persisted(&self, updates: u64) {
        self.updates_persisted.fetch_add(updates, Ordering::Relaxed);
    }

    /// Peers detached because their outbound queue was full; the transport closes each one's
    /// socket (1013 in the server) and the client resyncs by state vector on reconnecting.
    pub fn detached_for_lag(&self) -> u64 {
        self.detached_for_lag.load(Ordering::Relaxed)
    }

    /// Awareness messages queued for peers (one per peer per flush at most).
    pub fn awareness_messages_out(&self) -> u64 {
        self.awareness_messages_out.load(Ordering::Relaxed)
    }

    /// Awareness flushes that had something to send (at most one per document per tick).
    pub fn awareness_flushes(&self) -> u64 {
        self.awareness_flushes.load(Ordering::Relaxed)
    }

    /// Update messages queued for peers: one per change per receiving peer.
    pub fn updates_delivered(&self) -> u64 {
        self.updates_delivered.load(Ordering::Relaxed)
    }

    /// Changes appended to the store (before merging into one append per batch).
    pub fn updates_persisted(&self) -> u64 {
        self.updates_persisted.load(Ordering::Relaxed)
    }
}

/// The sync engine's figures at one moment: the counters of [`SyncMetrics`] and the gauges of
/// the documents in memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncSnapshot {
    /// See [`SyncMetrics::detached_for_lag`].
    pub detached_for_lag: u64,
    /// See [`SyncMetrics::awareness_messages_out`].
    pub awareness_messages_out: u64,
    /// See [`SyncMetrics::awareness_flushes`].
    pub awareness_flushes: u64,
    /// See [`SyncMetrics::updates_delivered`].
    pub updates_delivered: u64,
    /// See [`SyncMetrics::updates_persisted`].
    pub updates_persisted: u64,
    /// Documents in memory and held by someone.
    pub live_docs: u64,
    /// Peers attached to them.
    pub peers: u64,
    /// Messages waiting in every peer's outbound queue, summed.
    pub outbound_queued: u64,
    /// The longest outbound queue of any one peer.
    pub outbound_queued_max: u64,
}

impl SyncSnapshot {
    /// The counters of `metrics`, with the gauges left at zero.
    pub fn counters(metrics: &SyncMetrics) -> Self {
        Self {
            detached_for_lag: metrics.detached_for_lag(),
            awareness_messages_out: metrics.awareness_messages_out(),
            awareness_flushes: metrics.awareness_flushes(),
            updates_delivered: metrics.updates_delivered(),
            updates_persisted: metrics.updates_persisted(),
            ..Self::default()
        }
    }
}
