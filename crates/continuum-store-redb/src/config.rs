//! [`RedbConfig`]: batch size, queue size and the commit observer of a [`crate::RedbStore`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::RedbStoreError;

/// What one group commit did, reported to [`RedbConfig::on_commit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitStats {
    /// How many write requests the transaction held (successful or refused by their
    /// compare-and-swap check); the group-commit batch size.
    pub ops: usize,
    /// From the start of the write transaction to the end of its commit, fsync included.
    pub duration: Duration,
}

/// Called on the writer thread after every commit. It runs between two commits, so it must be
/// quick and must not block (record a metric and return); a panic in it stops the writer.
pub type CommitObserver = Arc<dyn Fn(CommitStats) + Send + Sync>;

/// How a [`crate::RedbStore`] batches its writes.
#[derive(Clone)]
pub struct RedbConfig {
    /// The most write requests one transaction takes. The writer never waits to fill a batch: it
    /// takes whatever is queued, up to this many, so a batch grows only while the previous commit
    /// was syncing. Default 1024.
    pub max_batch: usize,
    /// How many write requests may wait for the writer. When the queue is full, callers wait
    /// (backpressure) until the writer takes a batch; nothing is dropped. Default 4096.
    pub queue_capacity: usize,
    /// Told about every commit, e.g. to keep a histogram of batch sizes. Default none.
    pub on_commit: Option<CommitObserver>,
}

impl RedbConfig {
    /// The default `max_batch`.
    pub const DEFAULT_MAX_BATCH: usize = 1024;
    /// The default `queue_capacity`.
    pub const DEFAULT_QUEUE_CAPACITY: usize = 4096;

    /// The configuration with `observer` told about every commit.
    pub fn with_observer(mut self, observer: impl Fn(CommitStats) + Send + Sync + 'static) -> Self {
        self.on_commit = Some(Arc::new(observer));
        self
    }

    /// Refuses sizes the writer cannot work with.
    pub(crate) fn validate(&self) -> Result<(), RedbStoreError> {
        if self.max_batch == 0 {
            return Err(RedbStoreError::InvalidConfig("max_batch must be at least 1"));
        }
        if self.queue_capacity == 0 {
            return Err(RedbStoreError::InvalidConfig("queue_capacity must be at least 1"));
        }
        Ok(())
    }
}

impl Default for RedbConfig {
    fn default() -> Self {
        Self {
            max_batch: Self::DEFAULT_MAX_BATCH,
            queue_capacity: Self::DEFAULT_QUEUE_CAPACITY,
            on_commit: None,
        }
    }
}

impl fmt::Debug for RedbConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedbConfig")
            .field("max_batch", &self.max_batch)
            .field("queue_capacity", &self.queue_capacity)
            .field("on_commit", &self.on_commit.as_ref().map(|_| "Fn(CommitStats)"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_sizes_are_refused() {
        assert!(RedbConfig::default().validate().is_ok());
        let zero_batch = RedbConfig { max_batch: 0, ..RedbConfig::default() };
        assert!(matches!(zero_batch.validate(), Err(RedbStoreError::InvalidConfig(_))));
        let zero_queue = RedbConfig { queue_capacity: 0, ..RedbConfig::default() };
        assert!(matches!(zero_queue.validate(), Err(RedbStoreError::InvalidConfig(_))));
    }

    #[test]
    fn debug_names_the_observer_without_calling_it() {
        let config = RedbConfig::default().with_observer(|_| panic!("not called by Debug"));
        let shown = format!("{config:?}");
        assert!(shown.contains("max_batch: 1024") && shown.contains("Fn(CommitStats)"), "{shown}");
    }
}
