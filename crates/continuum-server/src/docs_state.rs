//! [`Docs`]: what the server needs for continuity documents — the registry of live documents,
//! the store behind it, the limits the HTTP side enforces — and the operations every writer
//! shares (`PATCH /v1/docs/...` and the demo's background task alike): open a document within
//! its scope's limit, patch it as JSON.

use std::sync::Arc;

use continuum_core::{Clock, DocKey, Scope};
use continuum_store::{DocStore, MemoryDocStore, StoreError};
use continuum_sync::{DocRegistry, LiveDoc, SyncConfig, SyncError};
use serde_json::Value;

/// Why a document could not be opened or changed.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// Creating the document would pass the scope's document limit.
    #[error("{scope} already has {max} documents, the most allowed")]
    TooManyDocuments {
        /// The scope that is full.
        scope: Scope,
        /// Its limit, [`SyncLimits::max_docs_per_scope`].
        max: usize,
    },
    /// The scope's documents could not be listed to check the limit.
    #[error("cannot list the documents of the scope")]
    Names(#[source] StoreError),
    /// A patch that is not a JSON object.
    #[error("a document patch is a JSON object whose members name root maps")]
    NotAnObject,
    /// The sync engine refused or failed the operation.
    #[error(transparent)]
    Sync(#[from] SyncError),
}

/// Limits enforced when a socket or a document is opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncLimits {
    /// Sync sockets one session may hold at once.
    pub max_sockets_per_session: usize,
    /// Downstream sockets edges may hold at once, all edges together (one per document with
    /// devices at an edge; see `GET /v1/edge/sync/{scope}/{name}`).
    pub max_edge_sockets: usize,
    /// Stored documents one scope (a principal, or a session) may have.
    pub max_docs_per_scope: usize,
    /// How often the sessions holding sync sockets are re-checked in the store (see
    /// [`crate::sockets::session_check::SESSION_CHECK`]).
    pub session_check: std::time::Duration,
}

impl Default for SyncLimits {
    fn default() -> Self {
        Self {
            max_sockets_per_session: 16,
            max_edge_sockets: 65_536,
            max_docs_per_scope: 100,
            session_check: crate::sockets::session_check::SESSION_CHECK,
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

    /// The live document `key`; when `creating`, first checks that a document that does not
    /// exist yet fits within its scope's [`SyncLimits::max_docs_per_scope`].
    pub async fn open(&self, key: &DocKey, creating: bool) -> Result<Arc<LiveDoc>, DocError> {
        if creating {
            let names = self.store.doc_names(&key.scope).await.map_err(DocError::Names)?;
            let max = self.limits.max_docs_per_scope;
            if !names.contains(&key.name) && names.len() >= max {
                return Err(DocError::TooManyDocuments { scope: key.scope.clone(), max });
            }
        }
        Ok(self.registry.open(key).await?)
    }

    /// Applies `patch` (an object whose members name root maps, each an RFC 7396 merge patch)
    /// to the document `key` as one change, creating it within its scope's limit, and returns
    /// the document after it. Returns once the change is durable (as [`LiveDoc::patch_json`]
    /// states), and connected clients see it at once.
    pub async fn patch_json(&self, key: &DocKey, patch: &Value) -> Result<Value, DocError> {
        if !patch.is_object() {
            return Err(DocError::NotAnObject);
        }
        let doc = self.open(key, true).await?;
        doc.patch_json(patch).await?;
        Ok(doc.to_json())
    }
}
