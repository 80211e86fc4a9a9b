//! Logging in the sessions the closed loop walks, before anything is measured.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::task::JoinSet;

use super::closed_loop::answer;
use super::system::{Handle, System};

/// Why the pool could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// Logins failed: `failed` of `count`.
    #[error("{name}: {failed} of {count} logins failed")]
    LoginsFailed {
        /// The system.
        name: String,
        /// Logins asked.
        count: usize,
        /// Logins without a session in the answer.
        failed: usize,
    },
}

/// Logs in `count` users (`compare-<i>`), at most `connections` at a time.
pub async fn login_many(system: &System, count: usize, connections: usize) -> Result<Vec<Handle>, PoolError> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..connections.clamp(1, count.max(1)) {
        let (system, next) = (system.clone(), Arc::clone(&next));
        tasks.spawn(async move {
            let (mut connection, mut handles) = (None, Vec::new());
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count {
                    return handles;
                }
                let response =
                    answer(&mut connection, &system, system.login(&format!("compare-{index}"))).await;
                if let Some(handle) = response.as_ref().and_then(|response| system.handle_from(response)) {
                    handles.push(handle);
                }
            }
        });
    }
    let handles: Vec<Handle> = tasks.join_all().await.into_iter().flatten().collect();
    if handles.len() < count {
        let failed = count - handles.len();
        return Err(PoolError::LoginsFailed { name: system.name.clone(), count, failed });
    }
    Ok(handles)
}
