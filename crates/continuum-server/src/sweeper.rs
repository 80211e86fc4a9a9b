//! [`ExpirySweeper`]: the task that deletes expired sessions and old tombstones in batches.

use std::time::Duration;

use continuum_store::Sessions;
use tokio_util::sync::CancellationToken;

/// Purges sessions past their purge time every `interval`, `batch` at a time.
#[derive(Debug)]
pub struct ExpirySweeper {
    sessions: Sessions,
    interval: Duration,
    batch: usize,
}

impl ExpirySweeper {
    /// A sweeper over `sessions`.
    pub fn new(sessions: Sessions, interval: Duration, batch: usize) -> Self {
        Self { sessions, interval, batch: batch.max(1) }
    }

    /// Deletes every session due now, one batch per store call; returns how many.
    pub async fn sweep(&self) -> usize {
        let mut total = 0;
        loop {
            match self.sessions.purge_expired(self.batch).await {
                Ok(purged) => {
                    total += purged;
                    if purged < self.batch {
                        return total;
                    }
                }
                Err(error) => {
                    tracing::warn!(error = %error, "expiry sweep failed; retrying next interval");
                    return total;
                }
            }
        }
    }

    /// Sweeps every interval until `cancel` fires.
    pub async fn run(self, cancel: CancellationToken) {
        let mut ticker = tokio::time::interval(self.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = ticker.tick() => {
                    let purged = self.sweep().await;
                    if purged > 0 {
                        tracing::debug!(purged, "expired sessions purged");
                    }
                }
            }
        }
    }
}
