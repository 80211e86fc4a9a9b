//! [`Docs`]: what the server needs for continuity documents — the registry of live documents,
//! the store behind it, and the limits the HTTP side enforces.

use std::sync::Arc;

use continuum_core::Clock;
use continuum_store::{DocStore, MemoryDocStore};
use continuum_sync::{DocRegistry, SyncConfig};

/// Limits enforced when a socket or a document is opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncLimits {
    /// Sync sockets one session may hold at once.
    pub max_sockets_per_session: usize,
    /// Stored documents one scope (a principal, or a session) may have.
    pub max_docs_per_scope: usize,
    /// How often the sessions holding sync sockets are re-checked in the store (see
    /// [`crate::sync::session_check::SESSION_CHECK`]).
    pub session_check: std::time::Duration,
}

impl Default for SyncLimits {
    fn default() -> Self {
        Self {
            max_sockets_per_session: 16,
            max_docs_per_scope: 100,
            session_check: crate::sync::session_check::SESSION_CHECK,
        }
    }
}

/// Continuity documents as the app serves them.
#[derive(Clone)]
pub struct Docs {
    /// Live documents, one per key.
    pub registry: DocRegistry,
    /// Where they are kept.
    pub store: Arc<dyn DocStore>,
    /// The sync engine's settings (message and document sizes, compaction, queues).
    pub config: SyncConfig,
    /// Socket and document limits.
    pub limits: SyncLimits,
}

impl std::fmt::Debug for Docs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Docs").field("limits", &self.limits).finish_non_exhaustive()
    }
}

impl Docs {
    /// Documents over `store` with the given settings.
    pub fn new(
        store: Arc<dyn DocStore>,
        clock: Arc<dyn Clock>,
        config: SyncConfig,
        limits: SyncLimits,
    ) -> Self {
        let registry = DocRegistry::new(Arc::clone(&store), clock, config.clone());
        Self { registry, store, config, limits }
    }

    /// Documents in memory with default settings, for tests and the in-memory server.
    pub fn in_memory(clock: Arc<dyn Clock>) -> Self {
        Self::new(Arc::new(MemoryDocStore::new()), clock, SyncConfig::default(), SyncLimits::default())
    }
}
