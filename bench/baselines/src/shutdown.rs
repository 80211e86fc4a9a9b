//! [`signal`]: when a baseline server stops (SIGTERM or Ctrl-C).

use tokio::signal::unix::{SignalKind, signal as unix_signal};

/// Resolves on SIGTERM or Ctrl-C; on Ctrl-C alone when no SIGTERM handler can be installed.
pub async fn signal() {
    match unix_signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(error) => {
            eprintln!("no SIGTERM handler ({error}); stop with Ctrl-C");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
