//! [`AckBeforeWrite`]: stores that acknowledge a write before they write it — the
//! `ack-before-write` fault mode.
//!
//! Every session write (insert, replace, touch, an epoch's bump or raise) and every document
//! write (append, compaction, version) is answered at once and put on one queue; a
//! [`LateWriter`] task applies each to the real store [`DELAY`] after it was answered, in the
//! order they were answered (so in order per key). Reads go to the real store, so in between
//! they see the old state. Purges are housekeeping, not answers to a client, and pass through.
//!
//! # What an acknowledged write survives
//! Nothing, for up to [`DELAY`] after it was answered: a SIGKILL in that window loses it. A
//! graceful stop ([`SessionStore::close`]) applies what is queued first. A write the real store
//! refuses when it is applied (a compare-and-swap whose version moved meanwhile, an insert of a
//! taken id) was answered as done anyway and is lost, with a WARN in the log.
//!
//! # What the answers guess
//! Writes that answer a number get a guess: an append the stored `last_seq` plus one per append
//! of the document still queued, a version likewise, an epoch's bump the stored epoch plus one
//! per bump queued. A compare-and-swap (`If-Match`) is decided by the caller on the old state:
//! two patches with the same `If-Match` inside the window both succeed and both answer the
//! same new version, and the second is refused when applied — the history shows two writes
//! acknowledged from one version and one of them missing.
//!
//! # Layout
//! - this module: [`AckBeforeWrite`], the queue and the guesses both faces share.
//! - `late_writer`: [`LateWriter`], the task applying queued writes, and what a queued write is.
//! - `sessions`: [`DelayedSessions`], the [`SessionStore`] face.
//! - `docs`: [`DelayedDocs`], the [`DocStore`] face.

mod docs;
mod late_writer;
mod sessions;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use continuum_store::{DocStore, SessionStore, StoreError};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use docs::DelayedDocs;
pub use late_writer::LateWriter;
use late_writer::{Counted, Queued, Write};
pub use sessions::DelayedSessions;

/// How long after its answer a write is applied.
pub const DELAY: Duration = Duration::from_millis(500);

/// Writes queued at most. When the queue is full a write waits for room before it is
/// answered (the store is then slower than the load, and the window grows no further).
pub const QUEUE_CAPACITY: usize = 10_000;

/// One queue of late writes over a session store and a document store; [`Self::sessions`] and
/// [`Self::docs`] are its two faces. Dropped without [`SessionStore::close`], what is queued is
/// lost, as in a crash.
pub struct AckBeforeWrite {
    shared: Arc<Shared>,
}

/// What both faces share.
struct Shared {
    sessions: Arc<dyn SessionStore>,
    docs: Arc<dyn DocStore>,
    delay: Duration,
    queue: mpsc::Sender<Queued>,
    /// Set by `close`: later writes are refused as [`StoreError::Closed`].
    closed: AtomicBool,
    /// The numbers guessed for writes still queued, per counted key.
    guesses: Arc<Guesses>,
    /// The [`LateWriter`]; aborted when the stores are dropped.
    late_writer: JoinHandle<()>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.late_writer.abort();
    }
}

/// The last number answered for each counted key with writes still queued, and how many.
#[derive(Default)]
pub(crate) struct Guesses {
    pending: Mutex<HashMap<Counted, Guess>>,
}

#[derive(Clone, Copy, Debug)]
struct Guess {
    last: u64,
    queued: usize,
}

impl Guesses {
    fn pending(&self) -> std::sync::MutexGuard<'_, HashMap<Counted, Guess>> {
        self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next number for `key`: one past the last guessed while writes of it are queued,
    /// else one past what `stored` reads. The lock is not held across the read.
    async fn next(
        &self,
        key: &Counted,
        stored: impl Future<Output = Result<u64, StoreError>>,
    ) -> Result<u64, StoreError> {
        if let Some(guess) = self.pending().get_mut(key) {
            guess.last += 1;
            guess.queued += 1;
            return Ok(guess.last);
        }
        let stored = stored.await?;
        let mut pending = self.pending();
        let guess = pending.entry(key.clone()).or_insert(Guess { last: stored, queued: 0 });
        guess.last += 1;
        guess.queued += 1;
        Ok(guess.last)
    }

    /// One queued write of `key` was applied (or failed).
    pub(crate) fn settle(&self, key: &Counted) {
        let mut pending = self.pending();
        if let Some(guess) = pending.get_mut(key) {
            guess.queued = guess.queued.saturating_sub(1);
            if guess.queued == 0 {
                pending.remove(key);
            }
        }
    }
}

impl AckBeforeWrite {
    /// Late writes to `sessions` and `docs`, [`DELAY`] after their answers. Spawns the
    /// [`LateWriter`] on the current tokio runtime.
    pub fn new(sessions: Arc<dyn SessionStore>, docs: Arc<dyn DocStore>) -> Self {
        Self::with_delay(sessions, docs, DELAY)
    }

    /// [`AckBeforeWrite::new`] with another delay.
    pub fn with_delay(sessions: Arc<dyn SessionStore>, docs: Arc<dyn DocStore>, delay: Duration) -> Self {
        let (queue, queued) = mpsc::channel(QUEUE_CAPACITY);
        let guesses = Arc::new(Guesses::default());
        let writer = LateWriter::new(Arc::clone(&sessions), Arc::clone(&docs), Arc::clone(&guesses));
        let late_writer = tokio::spawn(writer.run(queued));
        let shared =
            Shared { sessions, docs, delay, queue, closed: AtomicBool::new(false), guesses, late_writer };
        Self { shared: Arc::new(shared) }
    }

    /// The session store face.
    pub fn sessions(&self) -> DelayedSessions {
        DelayedSessions { shared: Arc::clone(&self.shared) }
    }

    /// The document store face.
    pub fn docs(&self) -> DelayedDocs {
        DelayedDocs { shared: Arc::clone(&self.shared) }
    }
}

impl Shared {
    /// [`StoreError::Closed`] once `close` began.
    fn refuse_if_closed(&self) -> Result<(), StoreError> {
        match self.closed.load(Ordering::Acquire) {
            true => Err(StoreError::Closed),
            false => Ok(()),
        }
    }

    /// Queues `write` to be applied after the delay; refused once closed.
    async fn enqueue(&self, write: Write) -> Result<(), StoreError> {
        self.refuse_if_closed()?;
        let queued = Queued { due: Instant::now() + self.delay, write };
        self.queue.send(queued).await.map_err(|_| StoreError::Closed)
    }

    /// Refuses later writes, waits until everything queued is applied, then closes the real
    /// session store.
    async fn close(&self) -> Result<(), StoreError> {
        self.closed.store(true, Ordering::Release);
        let (applied, done) = oneshot::channel();
        let flush = Queued { due: Instant::now(), write: Write::Flush(applied) };
        if self.queue.send(flush).await.is_ok() {
            let _ = done.await;
        }
        self.sessions.close().await
    }
}
