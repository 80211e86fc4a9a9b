//! A closed-loop load run of the visits app: remote mode with its cache, remote mode without a
//! cache, sealed mode, the same routes with no layer (the ceiling), then each app of `EXTERNAL`,
//! back to back with one load shape. One in-process Continuum server on the embedded store serves
//! remote mode; the in-process apps listen on loopback. `CONNECTIONS` clients (default 32), each
//! logged in with its own cookie, loop `GET /me` for `WARMUP_MS` (default 500) and then
//! `DURATION_SECS` (default 5) per app; an answer counts only when it is a 200 naming the
//! client's own user.
//!
//! ```sh
//! cargo run --release -p continuum-tower --example load
//! EXTERNAL='tower-sessions MemoryStore=http://127.0.0.1:4001' \
//!   cargo run --release -p continuum-tower --example load
//! ```
//!
//! `EXTERNAL` is `name=http://127.0.0.1:<port>,…`: apps already listening there that serve
//! `POST /login?user=` (answering 200 with a cookie) and `GET /me` (answering JSON with
//! `"principal":"<user>"`), such as `bench/baselines`' `visits_tower_sessions`. The table gets a
//! `vs <name>` column for each name in `VS` (comma-separated; default: every `EXTERNAL` app).
//! `bench/tower.sh` runs the whole comparison.

#[path = "../visits/app.rs"]
mod app;
mod ceiling;
mod client;
mod external;
mod report;

use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::serve::ListenerExt as _;
use client::Shape;
use continuum_backends::{OpenOptions, StoreConfig};
use continuum_core::seal::{KeyRing, SealKey};
use continuum_server::{Metrics, ServerConfig, run};
use continuum_tower::{ContinuumLayer, CookieConfig, RemoteConfig, SealedConfig};

const KEY: &str = "load-key";

/// A whole-number environment variable, `default` when unset.
fn env(name: &str, default: u64) -> anyhow::Result<u64> {
    match std::env::var(name) {
        Ok(value) => value.parse().with_context(|| format!("{name}={value} is not a whole number")),
        Err(_) => Ok(default),
    }
}

/// Serves `router` on a free loopback port (with `TCP_NODELAY`, as the Continuum server and the
/// external apps of `bench/tower.sh` do); answers its base URL.
async fn serve(router: Router) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding an app")?;
    let addr = listener.local_addr()?;
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(format!("http://{addr}"))
}

/// The in-process apps: each Continuum mode, then the ceiling.
fn in_process(url: &str) -> anyhow::Result<Vec<(String, Router)>> {
    let dev = CookieConfig::dev();
    let keys = KeyRing::new(vec![SealKey::generate()]).context("key ring")?;
    let remote =
        |config: RemoteConfig| ContinuumLayer::remote(RemoteConfig { cookie: dev.clone(), ..config });
    Ok(vec![
        ("continuum remote, cache (5 s TTL)".to_owned(), app::router(remote(RemoteConfig::new(url, KEY)))),
        (
            "continuum remote, no cache".to_owned(),
            app::router(remote(RemoteConfig::new(url, KEY).without_cache())),
        ),
        (
            "continuum sealed".to_owned(),
            app::router(ContinuumLayer::sealed(SealedConfig {
                cookie: dev.clone(),
                ..SealedConfig::new(keys)
            })),
        ),
        ("no layer (ceiling)".to_owned(), ceiling::router()),
    ])
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let shape = Shape {
        connections: env("CONNECTIONS", 32)?,
        warmup: Duration::from_millis(env("WARMUP_MS", 500)?),
        window: Duration::from_secs(env("DURATION_SECS", 5)?.max(1)),
    };
    let externals = external::parse(&std::env::var("EXTERNAL").unwrap_or_default())?;
    let references: Vec<String> = match std::env::var("VS") {
        Ok(names) => names.split(',').map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()).collect(),
        Err(_) => externals.iter().map(|e| e.name.clone()).collect(),
    };

    let dir = tempfile::tempdir()?;
    let mut config = ServerConfig::new(dir.path());
    config.api_keys = vec![KEY.to_owned()];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding the server")?;
    let url = format!("http://{}", listener.local_addr()?);
    let stores = continuum_backends::open(&StoreConfig::Redb, dir.path(), OpenOptions::default())
        .await
        .context("opening the embedded store")?;
    let metrics = std::sync::Arc::new(Metrics::new());
    tokio::spawn(async move {
        run(config, stores, metrics, listener, std::future::pending(), |_| axum::Router::new()).await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;

    eprintln!(
        "{} clients per app, GET /me for {:?} after {:?} of warm-up",
        shape.connections, shape.window, shape.warmup
    );
    let mut rows = Vec::new();
    for (name, router) in in_process(&url)? {
        let base = serve(router).await?;
        tokio::time::sleep(Duration::from_millis(300)).await; // remote mode's event stream connects
        let measured = client::measure(&base, shape).await.with_context(|| format!("measuring {name}"))?;
        eprintln!("{name}: {:.0} req/s", measured.rate);
        rows.push((name, measured));
    }
    for app in externals {
        let measured =
            client::measure(&app.base, shape).await.with_context(|| format!("measuring {}", app.name))?;
        eprintln!("{}: {:.0} req/s", app.name, measured.rate);
        rows.push((app.name, measured));
    }
    report::print(&rows, &references);
    Ok(())
}
