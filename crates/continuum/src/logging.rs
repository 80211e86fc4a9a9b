//! Tracing to stderr, filtered by `CONTINUUM_LOG` (or `RUST_LOG`), `info` by default.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// The variable read first for the log filter, in `tracing_subscriber::EnvFilter` syntax.
pub const LOG_ENV: &str = "CONTINUUM_LOG";

/// Installs the global subscriber. Logs go to stderr so that stdout carries only command output;
/// colours only when stderr is a terminal. A malformed filter falls back to `info` with a warning.
pub fn init() {
    let (filter, bad) = match std::env::var(LOG_ENV).or_else(|_| std::env::var("RUST_LOG")) {
        Ok(directives) => match EnvFilter::try_new(&directives) {
            Ok(filter) => (filter, None),
            Err(error) => (EnvFilter::new("info"), Some((directives, error))),
        },
        Err(_) => (EnvFilter::new("info"), None),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    if let Some((directives, error)) = bad {
        tracing::warn!(%directives, %error, "ignoring a malformed log filter; logging at info");
    }
}
