//! `compare`: measures Continuum and the baselines in one run, back to back, over the same kind
//! of connections with the same concurrency, and counts lost updates under concurrent writers.
//!
//! ```sh
//! compare --continuum-redis http://127.0.0.1:7001 --continuum-postgres http://127.0.0.1:7002 \
//!   --tower-sessions http://127.0.0.1:7003 --raw-redis http://127.0.0.1:7004
//! ```
//!
//! `bench/compare.sh` starts the four servers and runs this.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;
use continuum_baselines::load::closed_loop::{self, Window};
use continuum_baselines::load::report::{self, CpuPerRequest, Row};
use continuum_baselines::load::system::Api;
use continuum_baselines::load::{Operation, System, lost_updates, pool};
use http::HeaderValue;

/// Compares Continuum with the baselines: throughput, latency and lost updates.
#[derive(Debug, Parser)]
struct Args {
    /// Continuum on Redis (its /hello is the floor every ratio divides by)
    #[arg(long, value_name = "URL")]
    continuum_redis: Option<String>,
    /// Continuum on PostgreSQL
    #[arg(long, value_name = "URL")]
    continuum_postgres: Option<String>,
    /// Continuum on Redis with `serve --session-cache` (validations from the node's memory)
    #[arg(long, value_name = "URL")]
    continuum_redis_cached: Option<String>,
    /// The axum + tower-sessions + Redis baseline
    #[arg(long, value_name = "URL")]
    tower_sessions: Option<String>,
    /// The raw Redis GET+SET baseline
    #[arg(long, value_name = "URL")]
    raw_redis: Option<String>,
    /// Continuum's API key
    #[arg(long, env = "CONTINUUM_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Concurrent keep-alive connections per measurement
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Measurement window per (system, operation), in seconds
    #[arg(long, default_value_t = 8)]
    duration: u64,
    /// Warm-up before each window, in seconds
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Sessions each system logs in first, that validate and patch walk
    #[arg(long, default_value_t = 1000)]
    pool: usize,
    /// Concurrent writers on the one shared session of the lost-update count
    #[arg(long, default_value_t = 64)]
    writers: usize,
    /// A server's process id, as NAME=PID with NAME one of the systems, to report its CPU per
    /// request (repeatable)
    #[arg(long = "server-pid", value_name = "NAME=PID", value_parser = named_pid)]
    server_pids: Vec<(String, u32)>,
    /// Redis's process id, to report its CPU per request for the systems on Redis
    #[arg(long, value_name = "PID")]
    redis_pid: Option<u32>,
    /// Patches each writer sends (distinct keys); Continuum's default 16 KiB attribute limit
    /// holds 64 x 20 such keys
    #[arg(long, default_value_t = 20)]
    writes: usize,
}

fn named_pid(text: &str) -> Result<(String, u32), String> {
    let (name, pid) = text.split_once('=').ok_or("expected NAME=PID")?;
    Ok((name.to_owned(), pid.parse().map_err(|_| format!("`{pid}` is not a process id"))?))
}

/// A loopback URL's address.
fn loopback(url: &str) -> anyhow::Result<SocketAddr> {
    let authority = url.strip_prefix("http://").unwrap_or(url).trim_end_matches('/');
    let addr: SocketAddr = authority.parse().with_context(|| format!("{url}: not http://<ip>:<port>"))?;
    if !addr.ip().is_loopback() {
        bail!("{url}: only loopback servers are measured");
    }
    Ok(addr)
}

fn systems(args: &Args) -> anyhow::Result<Vec<System>> {
    let key = || -> anyhow::Result<Api> {
        let key = args.api_key.as_deref().context("Continuum needs --api-key or CONTINUUM_API_KEY")?;
        let mut value = HeaderValue::from_str(&format!("Bearer {key}"))?;
        value.set_sensitive(true);
        Ok(Api::Continuum(value))
    };
    let mut systems = Vec::new();
    for (name, url, continuum) in [
        ("continuum-redis", &args.continuum_redis, true),
        ("continuum-postgres", &args.continuum_postgres, true),
        ("continuum-redis-cached", &args.continuum_redis_cached, true),
        ("tower-sessions", &args.tower_sessions, false),
        ("raw-redis", &args.raw_redis, false),
    ] {
        if let Some(url) = url {
            let api = if continuum { key()? } else { Api::Cookie };
            systems.push(System { name: name.to_owned(), addr: loopback(url)?, api });
        }
    }
    if systems.is_empty() {
        bail!("no system to measure: give at least one URL");
    }
    Ok(systems)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let systems = systems(&args)?;
    let window =
        Window { warmup: Duration::from_secs(args.warmup), duration: Duration::from_secs(args.duration) };
    eprintln!(
        "compare: {} connections, {}s after {}s warm-up per (system, operation), pool of {}",
        args.connections, args.duration, args.warmup, args.pool
    );

    let mut pools = Vec::new();
    for system in &systems {
        let handles = pool::login_many(system, args.pool, args.connections).await?;
        eprintln!("{}: {} sessions logged in", system.name, handles.len());
        pools.push(Arc::new(handles));
    }

    let measure = |system: &System, operation: Operation, handles: &Arc<Vec<_>>| {
        let (system, handles) = (system.clone(), Arc::clone(handles));
        let server = args.server_pids.iter().find(|(name, _)| *name == system.name).map(|(_, pid)| *pid);
        let redis = args.redis_pid.filter(|_| !system.name.contains("postgres"));
        let watch = [server.unwrap_or(0), redis.unwrap_or(0), std::process::id()];
        async move {
            let measured =
                closed_loop::run(&system, operation, handles, args.connections, window, &watch).await;
            let summary = measured.summary;
            eprintln!("{} {operation}: {:.1} req/s", system.name, summary.rps);
            let per_request = |index: usize, known: bool| {
                let cpu = measured.cpu[index].filter(|_| known && summary.requests > 0)?;
                Some(cpu.as_secs_f64() * 1e6 / summary.requests as f64)
            };
            let cpu = CpuPerRequest {
                server: per_request(0, server.is_some()),
                redis: per_request(1, redis.is_some()),
                bench: per_request(2, true),
            };
            Row { system: system.name, operation, summary, cpu }
        }
    };
    // The floor: the first system's /hello, before and after the rest, so drift shows.
    let mut rows = vec![measure(&systems[0], Operation::Hello, &pools[0]).await];
    for operation in [Operation::Validate, Operation::Patch] {
        for (system, handles) in systems.iter().zip(&pools) {
            rows.push(measure(system, operation, handles).await);
        }
    }
    rows.push(measure(&systems[0], Operation::Hello, &pools[0]).await);

    let mut lost = Vec::new();
    for system in &systems {
        let result = lost_updates::run(system, args.writers, args.writes).await?;
        eprintln!("{}: {} lost updates", system.name, result.lost);
        lost.push((system.name.clone(), result));
    }

    let hellos: Vec<f64> =
        rows.iter().filter(|row| row.operation == Operation::Hello).map(|r| r.summary.rps).collect();
    let floor = hellos.iter().sum::<f64>() / hellos.len() as f64;
    println!(
        "\nfloor: {}'s /hello, {:.1} req/s at the start and {:.1} at the end (mean {floor:.1})\n",
        systems[0].name, hellos[0], hellos[1]
    );
    print!("{}", report::throughput(&rows, Some(floor)));
    println!();
    for reference in ["tower-sessions", "raw-redis"] {
        for system in ["continuum-redis", "continuum-postgres", "continuum-redis-cached"] {
            let ratios: Vec<String> = [Operation::Validate, Operation::Patch]
                .into_iter()
                .filter_map(|operation| {
                    report::ratio(&rows, system, reference, operation)
                        .map(|ratio| format!("{operation} {ratio:.2}x"))
                })
                .collect();
            if !ratios.is_empty() {
                println!("{system} / {reference}: {}", ratios.join(", "));
            }
        }
    }
    println!();
    print!("{}", report::lost_updates(&lost));
    Ok(())
}
