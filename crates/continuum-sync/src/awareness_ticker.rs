//! [`AwarenessTicker`]: the per-document task that flushes the awareness changes gathered
//! during one tick (see [`crate::awareness`]) as one message per peer.

use std::sync::Weak;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::doc_core::Core;

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
