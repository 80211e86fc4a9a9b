//! `baseline`: serves one of the two baseline apps on a loopback port until SIGTERM or Ctrl-C.
//!
//! ```sh
//! baseline --app tower-sessions --redis redis://127.0.0.1:6379/13 --listen 127.0.0.1:0
//! ```
//!
//! It prints `listening on <addr>` on stderr once it accepts connections.

use std::net::SocketAddr;

use anyhow::{Context as _, bail};
use axum::serve::ListenerExt as _;
use clap::{Parser, ValueEnum};
use continuum_baselines::{raw_redis_app, shutdown, tower_sessions_app};

/// Which baseline to serve.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum App {
    /// axum + tower-sessions + tower-sessions-redis-store (fred)
    TowerSessions,
    /// axum + redis-rs, GET + SET of a JSON blob, no WATCH/MULTI
    RawRedis,
}

/// Serves a baseline session app for the comparison benchmark.
#[derive(Debug, Parser)]
struct Args {
    /// The app to serve
    #[arg(long, value_enum)]
    app: App,
    /// A loopback address to listen on (port 0: any free port)
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The Redis to keep sessions in; use a database of its own
    #[arg(long, default_value = "redis://127.0.0.1:6379/13")]
    redis: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        bail!("{} is not a loopback address", args.listen);
    }
    let app = match args.app {
        App::TowerSessions => tower_sessions_app::app(tower_sessions_app::connect(&args.redis).await?),
        App::RawRedis => raw_redis_app::app(raw_redis_app::connect(&args.redis).await?),
    };
    let listener = tokio::net::TcpListener::bind(args.listen).await.context("binding")?;
    eprintln!("listening on {}", listener.local_addr()?);
    // As Continuum does: answers leave at once instead of waiting behind Nagle's algorithm.
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, app).with_graceful_shutdown(shutdown::signal()).await?;
    Ok(())
}
