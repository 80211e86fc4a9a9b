//! The document appends this node announces: a bounded queue filled by the registry's
//! [`AppendHook`] (synchronous, on each document's persistence task, so it never waits), and
//! the task that publishes it on the bus.
//!
//! When the queue is full, the append's bytes are dropped and counted
//! ([`RelayMetrics::appends_without_bytes`]), and its document is noted in [`Unsent`]; the
//! publisher then announces that document once without bytes, and the other nodes read its log
//! from the store. Receivers do not look at sequence numbers, so a silently dropped
//! announcement would leave their copy behind until its next compaction or bus gap; an
//! announcement without bytes is already the wire's way to say "read the log" (a transport
//! sends it for an update too large to carry), so every other node converges without a new
//! notice kind. The append is in the store before the hook is called, so the log they read
//! holds it.

use std::sync::{Arc, Mutex, MutexGuard};

use continuum_core::DocKey;
use continuum_store::{Bus, Notice};
use continuum_sync::AppendHook;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::metrics::RelayMetrics;
use crate::unsent::Unsent;

/// What the hook and the publisher share besides the queue.
struct Overflow {
    /// Never held across `.await`.
    unsent: Mutex<Unsent>,
    /// Woken once something is noted; a wake-up while the publisher is busy is kept for it.
    noted: Notify,
    metrics: Arc<RelayMetrics>,
}

impl Overflow {
    fn unsent(&self) -> MutexGuard<'_, Unsent> {
        self.unsent.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn note(&self, key: &DocKey, seq: u64) {
        self.metrics.add_append_without_bytes();
        self.unsent().note(key, seq);
        self.noted.notify_one();
    }
}

/// The task publishing what the hook queued.
pub(crate) struct AppendPublisher {
    queue: mpsc::Receiver<Notice>,
    overflow: Arc<Overflow>,
}

/// A queue of `capacity` appends (at least one): the hook to register with the registry, and
/// the publisher to run.
pub(crate) fn append_queue(capacity: usize, metrics: Arc<RelayMetrics>) -> (AppendHook, AppendPublisher) {
    let (sender, queue) = mpsc::channel(capacity.max(1));
    let overflow = Arc::new(Overflow { unsent: Mutex::default(), noted: Notify::new(), metrics });
    let hook_overflow = Arc::clone(&overflow);
    let hook: AppendHook = Arc::new(move |key, seq, update| {
        let notice = Notice::DocAppended { key: key.clone(), seq, update: Some(update.to_vec()) };
        match sender.try_send(notice) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => hook_overflow.note(key, seq),
            // The relay stopped: the node is shutting down.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    });
    (hook, AppendPublisher { queue, overflow })
}

impl AppendPublisher {
    /// Publishes every queued append, and every document owed an announcement without bytes,
    /// until `cancel` fires.
    pub async fn run(mut self, bus: Arc<dyn Bus>, cancel: CancellationToken) {
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = self.overflow.noted.notified() => {
                    let owed = self.overflow.unsent().take();
                    for notice in owed {
                        publish(bus.as_ref(), &notice).await;
                    }
                }
                notice = self.queue.recv() => match notice {
                    Some(notice) => publish(bus.as_ref(), &notice).await,
                    None => return,
                },
            }
        }
    }
}

async fn publish(bus: &dyn Bus, notice: &Notice) {
    if let Err(error) = bus.publish(notice).await {
        tracing::warn!(error = &error as &dyn std::error::Error, "announcing a document update failed");
    }
}
