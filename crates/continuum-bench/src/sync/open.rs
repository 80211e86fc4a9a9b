//! Opening many sockets with bounded concurrency: [`open_all`].

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use indicatif::ProgressBar;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::socket::SocketError;

/// How long opening one socket (connect, upgrade, sync, whatever the opener does) may take.
pub const OPEN_TIMEOUT: Duration = Duration::from_secs(15);

/// An opener gives up after this many failures in a row, so a server that refuses everything
/// ends the phase quickly instead of being asked for every socket.
const MAX_FAILURES_IN_A_ROW: u32 = 20;

/// What opening gave.
#[derive(Debug)]
pub struct Opened<T> {
    /// What opened, by index, in index order.
    pub items: Vec<(usize, T)>,
    /// Failures by [`SocketError::kind`].
    pub errors: BTreeMap<String, u64>,
    /// The first failure, with its cause, to explain a phase where nothing opened.
    pub first_error: Option<SocketError>,
    /// How long it took.
    pub elapsed: Duration,
}

impl<T> Opened<T> {
    /// Failures in all.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

/// Runs `open(0..count)`, at most `concurrency` at a time, each within [`OPEN_TIMEOUT`].
pub async fn open_all<T, F, Fut>(
    count: usize,
    concurrency: usize,
    progress: &ProgressBar,
    open: F,
) -> Opened<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<T, SocketError>> + Send,
{
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut openers = JoinSet::new();
    for _ in 0..concurrency.clamp(1, count.max(1)) {
        let (next, open, progress) = (Arc::clone(&next), open.clone(), progress.clone());
        openers.spawn(async move {
            let mut part = Opened {
                items: Vec::new(),
                errors: BTreeMap::new(),
                first_error: None,
                elapsed: Duration::ZERO,
            };
            let mut failures_in_a_row = 0;
            while failures_in_a_row < MAX_FAILURES_IN_A_ROW {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count {
                    break;
                }
                let opened = tokio::time::timeout(OPEN_TIMEOUT, open(index))
                    .await
                    .unwrap_or(Err(SocketError::Timeout(OPEN_TIMEOUT)));
                match opened {
                    Ok(item) => {
                        part.items.push((index, item));
                        failures_in_a_row = 0;
                    }
                    Err(error) => {
                        tracing::debug!(error = %error, index, "bench socket failed to open");
                        *part.errors.entry(error.kind()).or_default() += 1;
                        part.first_error.get_or_insert(error);
                        failures_in_a_row += 1;
                    }
                }
                progress.inc(1);
            }
            part
        });
    }
    let mut opened =
        Opened { items: Vec::new(), errors: BTreeMap::new(), first_error: None, elapsed: Duration::ZERO };
    while let Some(joined) = openers.join_next().await {
        match joined {
            Ok(part) => {
                opened.items.extend(part.items);
                for (kind, count) in part.errors {
                    *opened.errors.entry(kind).or_default() += count;
                }
                if opened.first_error.is_none() {
                    opened.first_error = part.first_error;
                }
            }
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => {}
        }
    }
    progress.finish_and_clear();
    opened.items.sort_unstable_by_key(|(index, _)| *index);
    opened.elapsed = started.elapsed();
    opened
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_every_index_once_and_counts_failures() {
        let opened = open_all(50, 4, &ProgressBar::hidden(), |index| async move {
            if index % 10 == 3 { Err(SocketError::Timeout(Duration::ZERO)) } else { Ok(index * 2) }
        })
        .await;
        let indexes: Vec<usize> = opened.items.iter().map(|(index, _)| *index).collect();
        assert_eq!(indexes, (0..50).filter(|i| i % 10 != 3).collect::<Vec<_>>());
        assert!(opened.items.iter().all(|(index, value)| *value == index * 2));
        assert_eq!(opened.errors.get("timeout"), Some(&5));
        assert_eq!(opened.error_count(), 5);
        assert!(matches!(opened.first_error, Some(SocketError::Timeout(_))));
    }

    #[tokio::test]
    async fn a_server_that_refuses_everything_is_not_asked_for_every_socket() {
        let asked = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&asked);
        let opened = open_all(10_000, 2, &ProgressBar::hidden(), move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
            async { Err::<(), _>(SocketError::Closed { code: 1008, reason: String::new() }) }
        })
        .await;
        assert!(opened.items.is_empty());
        assert_eq!(asked.load(Ordering::Relaxed), 2 * MAX_FAILURES_IN_A_ROW as usize);
    }
}
