//! A small closed-loop load run of the visits app in each mode: remote with its cache, remote
//! without a cache, sealed, and the same router without the layer (the ceiling). One in-process
//! Continuum server on the embedded store, the app on loopback, `CONNECTIONS` clients (default
//! 32) each logged in with its own cookie, looping `GET /me` for `DURATION_SECS` (default 5) per mode.
//!
//! ```sh
//! cargo run --release -p continuum-tower --example load
//! ```

#[path = "visits/app.rs"]
mod app;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::Router;
use continuum_core::seal::{KeyRing, SealKey};
use continuum_server::{ServerConfig, run};
use continuum_tower::{ContinuumLayer, CookieConfig, RemoteConfig, SealedConfig};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

const KEY: &str = "load-key";

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn serve(router: Router) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(addr)
}

type Http = Client<HttpConnector, Empty<Bytes>>;

async fn call(
    http: &Http,
    method: Method,
    url: &str,
    cookie: Option<&str>,
) -> anyhow::Result<(StatusCode, Option<String>)> {
    let mut request = Request::builder().method(method).uri(url);
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("session={cookie}"));
    }
    let response = http.request(request.body(Empty::new())?).await?;
    let status = response.status();
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned());
    response.into_body().collect().await?;
    Ok((status, cookie))
}

/// (req/s, p50 µs, p99 µs, errors)
async fn measure(addr: SocketAddr, connections: u64, seconds: u64) -> anyhow::Result<(f64, u64, u64, u64)> {
    let http: Http = Client::builder(TokioExecutor::new()).build_http();
    let mut workers = tokio::task::JoinSet::new();
    let start = Instant::now() + Duration::from_millis(500);
    let end = start + Duration::from_secs(seconds);
    for n in 0..connections {
        let http = http.clone();
        let (_, cookie) = call(&http, Method::POST, &format!("http://{addr}/login?user=u{n}"), None).await?;
        workers.spawn(async move {
            let url = format!("http://{addr}/me");
            let mut histogram = Histogram::<u64>::new(3).expect("histogram");
            let mut errors = 0u64;
            while Instant::now() < end {
                let sent = Instant::now();
                let ok = matches!(
                    call(&http, Method::GET, &url, cookie.as_deref()).await,
                    Ok((StatusCode::OK, _))
                );
                if sent >= start {
                    if ok {
                        histogram.record(sent.elapsed().as_micros() as u64).expect("record");
                    } else {
                        errors += 1;
                    }
                }
            }
            (histogram, errors)
        });
    }
    let mut all = Histogram::<u64>::new(3)?;
    let mut errors = 0;
    while let Some(joined) = workers.join_next().await {
        let (histogram, failed) = joined?;
        all.add(histogram)?;
        errors += failed;
    }
    let rate = all.len() as f64 / seconds as f64;
    Ok((rate, all.value_at_quantile(0.5), all.value_at_quantile(0.99), errors))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let connections = env("CONNECTIONS", 32);
    let seconds = env("DURATION_SECS", 5);
    let dir = tempfile::tempdir()?;
    let mut config = ServerConfig::new(dir.path());
    config.api_keys = vec![KEY.to_owned()];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { run(config, listener, std::future::pending()).await });
    tokio::time::sleep(Duration::from_millis(500)).await;

    let dev = CookieConfig::dev();
    let keys = KeyRing::new(vec![SealKey::generate()]).context("key ring")?;
    let modes: Vec<(&str, Router)> = vec![
        (
            "remote, cache (5 s TTL)",
            app::router(ContinuumLayer::remote(RemoteConfig {
                cookie: dev.clone(),
                ..RemoteConfig::new(&url, KEY)
            })),
        ),
        (
            "remote, no cache",
            app::router(ContinuumLayer::remote(RemoteConfig {
                cookie: dev.clone(),
                ..RemoteConfig::new(&url, KEY).without_cache()
            })),
        ),
        (
            "sealed",
            app::router(ContinuumLayer::sealed(SealedConfig {
                cookie: dev.clone(),
                ..SealedConfig::new(keys)
            })),
        ),
    ];
    println!("| mode | req/s | p50 | p99 | errors |\n|---|---:|---:|---:|---:|");
    for (name, router) in modes {
        let addr = serve(router).await?;
        tokio::time::sleep(Duration::from_millis(300)).await; // the event stream connects
        let (rate, p50, p99, errors) = measure(addr, connections, seconds).await?;
        println!(
            "| {name} | {rate:.0} | {:.2} ms | {:.2} ms | {errors} |",
            p50 as f64 / 1000.0,
            p99 as f64 / 1000.0
        );
    }
    Ok(())
}
