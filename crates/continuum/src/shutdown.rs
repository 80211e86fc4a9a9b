//! The future `serve` hands to the server: it completes on Ctrl-C (SIGINT) or SIGTERM.

use std::future::Future;

/// Registers the signal handlers now, so a signal that arrives while the server is still
/// starting is not lost, and returns the future that completes on the first one.
///
/// Registration fails only when the process cannot install signal handlers at all; serving
/// without a way to stop gracefully would be worse than not starting, so that is an error.
#[cfg(unix)]
pub fn on_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};

    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("interrupted (Ctrl-C): shutting down"),
            _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
        }
    })
}

/// Registers the Ctrl-C handler and returns the future that completes on Ctrl-C.
#[cfg(not(unix))]
pub fn on_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    Ok(async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => tracing::info!("interrupted (Ctrl-C): shutting down"),
            Err(error) => {
                tracing::error!(%error, "cannot wait for Ctrl-C; stop the process another way");
                std::future::pending::<()>().await
            }
        }
    })
}
