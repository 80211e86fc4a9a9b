//! [`LateWriter`]: the task applying acknowledged writes to the real stores, each when it is
//! due, one at a time in the order they were answered.

use std::sync::Arc;

use continuum_core::{DocKey, Principal, SessionId, SessionRecord, Timestamp};
use continuum_store::{DocStore, SessionStore, StoreError};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::Guesses;

/// A key whose writes answer a guessed number.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Counted {
    /// A document's sequence numbers.
    Seq(DocKey),
    /// A document's version ids.
    Version(DocKey),
    /// A principal's epoch.
    Epoch(Principal),
}

/// A write already answered, waiting to be applied.
pub(crate) enum Write {
    Insert(Arc<SessionRecord>),
    Replace {
        expected: u64,
        record: Arc<SessionRecord>,
    },
    Touch {
        sid: SessionId,
        at: Timestamp,
    },
    Bump(Principal),
    Raise {
        principal: Principal,
        at_least: u64,
    },
    Append {
        key: DocKey,
        update: Vec<u8>,
        writer: Option<SessionId>,
    },
    Compact {
        key: DocKey,
        snapshot: Vec<u8>,
        through_seq: u64,
    },
    SaveVersion {
        key: DocKey,
        name: String,
        created_at: Timestamp,
        state: Vec<u8>,
    },
    /// Not a write: answered once everything queued before it is applied.
    Flush(oneshot::Sender<()>),
}

impl Write {
    /// What the log calls it.
    fn name(&self) -> &'static str {
        match self {
            Write::Insert(_) => "session insert",
            Write::Replace { .. } => "session replace",
            Write::Touch { .. } => "session touch",
            Write::Bump(_) => "epoch bump",
            Write::Raise { .. } => "epoch raise",
            Write::Append { .. } => "document append",
            Write::Compact { .. } => "document compaction",
            Write::SaveVersion { .. } => "document version",
            Write::Flush(_) => "flush",
        }
    }

    /// The counted key whose guess this write settles when applied.
    fn counted(&self) -> Option<Counted> {
        match self {
            Write::Bump(principal) => Some(Counted::Epoch(principal.clone())),
            Write::Append { key, .. } => Some(Counted::Seq(key.clone())),
            Write::SaveVersion { key, .. } => Some(Counted::Version(key.clone())),
            _ => None,
        }
    }
}

/// A write and when it is due.
pub(crate) struct Queued {
    pub(crate) due: Instant,
    pub(crate) write: Write,
}

/// Applies queued writes to the real stores, each at its due time, in queue order. Ends when
/// every sender is gone (its owner aborts it then, losing what is left, as a crash would).
pub struct LateWriter {
    sessions: Arc<dyn SessionStore>,
    docs: Arc<dyn DocStore>,
    guesses: Arc<Guesses>,
}

impl LateWriter {
    pub(crate) fn new(
        sessions: Arc<dyn SessionStore>,
        docs: Arc<dyn DocStore>,
        guesses: Arc<Guesses>,
    ) -> Self {
        Self { sessions, docs, guesses }
    }

    /// Applies what arrives on `queued` until it closes.
    pub(crate) async fn run(self, mut queued: mpsc::Receiver<Queued>) {
        while let Some(Queued { due, write }) = queued.recv().await {
            tokio::time::sleep_until(due).await;
            let (name, counted) = (write.name(), write.counted());
            if let Err(error) = self.apply(write).await {
                tracing::warn!(
                    write = name,
                    error = &error as &dyn std::error::Error,
                    "ack-before-write: a write answered as done earlier failed when applied; it is lost"
                );
            }
            if let Some(counted) = counted {
                self.guesses.settle(&counted);
            }
        }
    }

    async fn apply(&self, write: Write) -> Result<(), StoreError> {
        match write {
            Write::Insert(record) => self.sessions.insert(record).await,
            Write::Replace { expected, record } => self.sessions.replace(expected, record).await,
            Write::Touch { sid, at } => self.sessions.touch(&sid, at).await,
            Write::Bump(principal) => self.sessions.bump_principal_epoch(&principal).await.map(drop),
            Write::Raise { principal, at_least } => {
                self.sessions.raise_principal_epoch(&principal, at_least).await.map(drop)
            }
            Write::Append { key, update, writer } => {
                self.docs.append_by(&key, update, writer.as_ref()).await.map(drop)
            }
            Write::Compact { key, snapshot, through_seq } => {
                self.docs.compact(&key, snapshot, through_seq).await
            }
            Write::SaveVersion { key, name, created_at, state } => {
                self.docs.save_version(&key, name, created_at, state).await.map(drop)
            }
            Write::Flush(applied) => {
                // The closer may have stopped waiting; nothing to tell then.
                let _ = applied.send(());
                Ok(())
            }
        }
    }
}
