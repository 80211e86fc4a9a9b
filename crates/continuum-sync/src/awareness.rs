//! Awareness fan-out coalesced per tick: which client states changed since the last flush, and
//! the per-document [`AwarenessTicker`] task that flushes them as one message per peer.
//!
//! Relaying every awareness change to every peer at once costs O(N) messages per change, so N
//! clients joining or leaving together cost O(N²). Instead a change only marks its client ids;
//! at most once per [`crate::SyncConfig::awareness_tick`] the document sends each peer one
//! message carrying every marked client's current state (or its removal).

use std::collections::BTreeSet;
use std::sync::Weak;
use std::time::Duration;

use tokio::sync::mpsc;
use yrs::ClientID;

use crate::live_doc::Core;

/// The awareness client ids changed since the last flush.
///
/// Bounded by the document's awareness table (every marked id is in it, and a peer introduces
/// at most [`crate::state::MAX_CLIENTS_PER_PEER`]); marking an id twice keeps one entry.
pub(crate) struct PendingAwareness {
    changed: BTreeSet<ClientID>,
    /// Capacity 1: full means a flush is already due, which covers this change too.
    wake: mpsc::Sender<()>,
}

impl PendingAwareness {
    pub fn new(wake: mpsc::Sender<()>) -> Self {
        Self { changed: BTreeSet::new(), wake }
    }

    /// Marks `clients` as changed and makes sure a flush is due.
    pub fn mark(&mut self, clients: impl IntoIterator<Item = ClientID>) {
        let before = self.changed.len();
        self.changed.extend(clients);
        if self.changed.len() > before {
            // Full: a flush is already due. Closed: the ticker is gone with the document.
            let _ = self.wake.try_send(());
        }
    }

    /// The marked ids, leaving none marked.
    pub fn take(&mut self) -> BTreeSet<ClientID> {
        std::mem::take(&mut self.changed)
    }
}

/// One document's awareness flusher: woken by the first change after a flush, it waits one
/// tick (gathering every change made meanwhile) and flushes. It ends when the document's state
/// is dropped (its wake sender with it).
pub(crate) struct AwarenessTicker {
    pub core: Weak<Core>,
    pub wake: mpsc::Receiver<()>,
    pub tick: Duration,
}

impl AwarenessTicker {
    /// Runs until the document is gone.
    pub async fn run(mut self) {
        while self.wake.recv().await.is_some() {
            tokio::time::sleep(self.tick).await;
            let Some(core) = self.core.upgrade() else { return };
            core.lock().flush_awareness();
        }
    }
}
