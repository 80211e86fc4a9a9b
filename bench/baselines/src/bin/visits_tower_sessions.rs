//! `visits_tower_sessions`: Continuum's `visits` example app on tower-sessions, served on a
//! loopback address until SIGTERM or Ctrl-C, for `bench/tower.sh`.
//!
//! ```sh
//! visits_tower_sessions --store memory --listen 127.0.0.1:0
//! visits_tower_sessions --store redis://127.0.0.1:6379/11 --listen 127.0.0.1:0
//! ```
//!
//! It prints `listening on <addr>` on stderr once it accepts connections.

use std::net::SocketAddr;

use anyhow::{Context as _, bail};
use axum::serve::ListenerExt as _;
use clap::Parser;
use continuum_baselines::visits::{self, StoreChoice};
use continuum_baselines::{shutdown, tower_sessions_app};
use tower_sessions::MemoryStore;

/// Serves the visits app on tower-sessions.
#[derive(Debug, Parser)]
struct Args {
    /// `memory` (tower-sessions' MemoryStore) or a redis:// URL (tower-sessions-redis-store);
    /// give Redis a database of its own
    #[arg(long)]
    store: StoreChoice,
    /// A loopback address to listen on (port 0: any free port)
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        bail!("{} is not a loopback address", args.listen);
    }
    let app = match &args.store {
        StoreChoice::Memory => visits::router(MemoryStore::default()),
        StoreChoice::Redis(url) => visits::router(
            tower_sessions_app::connect(url).await.with_context(|| format!("connecting to {url}"))?,
        ),
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    eprintln!("listening on {} (store: {})", listener.local_addr()?, args.store);
    // As the load example's in-process apps: answers leave at once, not behind Nagle's algorithm.
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, app).with_graceful_shutdown(shutdown::signal()).await?;
    Ok(())
}
