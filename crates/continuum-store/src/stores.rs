//! [`Stores`]: the session store, the document store and the bus one server runs on, opened by
//! whoever assembles the server (the binary, a test), so the server itself names no backend.

use std::fmt;
use std::sync::Arc;

use crate::bus::Bus;
use crate::docs::DocStore;
use crate::memory::MemoryStore;
use crate::memory_docs::MemoryDocStore;
use crate::store::SessionStore;

/// Where one server keeps sessions and documents, and how it hears the other nodes sharing them.
///
/// The server serves over these as they are and closes `sessions` when it stops (which, for a
/// store that keeps documents too, finishes their writes as well). The two stores are usually
/// one backend seen through both traits (one redb file with one writer and shared group commits,
/// one Redis, one PostgreSQL); memory keeps them apart.
#[derive(Clone)]
pub struct Stores {
    /// The session store.
    pub sessions: Arc<dyn SessionStore>,
    /// The document store.
    pub docs: Arc<dyn DocStore>,
    /// The bus of a store several nodes share, carrying their session events and document
    /// updates to each other; `None` for a store only this node uses (embedded, memory).
    pub bus: Option<Arc<dyn Bus>>,
}

impl Stores {
    /// One store keeping both sessions and documents, used by this node alone: no bus.
    pub fn local<S: SessionStore + DocStore>(store: Arc<S>) -> Self {
        Self { sessions: Arc::clone(&store) as Arc<dyn SessionStore>, docs: store, bus: None }
    }

    /// One store keeping both sessions and documents, shared with other nodes over `bus`.
    pub fn shared<S: SessionStore + DocStore>(store: Arc<S>, bus: Arc<dyn Bus>) -> Self {
        Self { bus: Some(bus), ..Self::local(store) }
    }

    /// Sessions and documents in process memory ([`MemoryStore`], [`MemoryDocStore`]); nothing
    /// survives a restart.
    pub fn memory() -> Self {
        Self { sessions: Arc::new(MemoryStore::new()), docs: Arc::new(MemoryDocStore::new()), bus: None }
    }
}

impl fmt::Debug for Stores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stores").field("bus", &self.bus.is_some()).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_stores_serve_one_node() {
        let stores = Stores::memory();
        assert!(stores.bus.is_none());
        assert_eq!(format!("{stores:?}"), "Stores { bus: false, .. }");
    }
}
