//! Memory per cached session at an edge, as BENCHMARKS.md reports it: the load generator of
//! `bench/edge_memory.sh`, which runs the origin (`continuum serve`) and the edge (`continuum
//! edge`) as processes of their own, so that the edge's RSS is the edge's alone.
//!
//! It creates `WARMUP + SESSIONS` sessions at the origin, validates the first `WARMUP` at the
//! edge (`GET /v1/me`: a cache miss each, so the edge fetches and caches the record — this warms
//! the allocator, the connection pools and the cache's table), reads the edge's RSS from
//! `/proc/<EDGE_PID>/status`, validates the other `SESSIONS`, waits for the edge to settle, reads
//! its RSS again and prints the difference per session. It then validates every measured session
//! once more and checks that each was answered from the cache (`continuum_edge_cache_hits_total`
//! grew by `SESSIONS`), so the figure is of sessions the cache still holds.
//!
//! `ORIGIN=http://… EDGE=http://… EDGE_PID=… KEY=… [SESSIONS=100000] [WARMUP=1000]
//! target/release/examples/edge_memory`

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Requests in flight at once.
const CONCURRENCY: usize = 32;
/// How long the edge is left alone before its RSS is read again.
const SETTLE: Duration = Duration::from_secs(3);

type Http = Client<HttpConnector, Body>;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("set {name}"))
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().map_or(default, |value| value.parse().expect("a number"))
}

async fn call(
    http: &Http,
    method: &str,
    url: &str,
    auth: &str,
    body: Option<String>,
) -> (StatusCode, Vec<u8>) {
    let mut request = Request::builder().method(method).uri(url).header(header::AUTHORIZATION, auth);
    if body.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let request = request.body(body.map_or_else(Body::empty, Body::from)).unwrap();
    let response = http.request(request).await.expect("the server answers");
    let status = response.status();
    (status, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

/// Runs `work(i)` for every `i` in `0..count`, `CONCURRENCY` at a time.
async fn each<F, Fut>(count: usize, work: F)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let (work, next) = (Arc::new(work), Arc::new(AtomicUsize::new(0)));
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (work, next) = (Arc::clone(&work), Arc::clone(&next));
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    work(i).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
}

/// Creates `count` sessions at the origin; their tokens.
async fn create(http: &Http, origin: &str, key: &str, count: usize) -> Arc<Vec<String>> {
    let tokens = Arc::new(std::sync::Mutex::new(vec![String::new(); count]));
    let (http, url, auth, into) =
        (http.clone(), format!("{origin}/v1/sessions"), format!("Bearer {key}"), Arc::clone(&tokens));
    each(count, move |i| {
        let (http, url, auth, into) = (http.clone(), url.clone(), auth.clone(), Arc::clone(&into));
        async move {
            let body = serde_json::json!({"principal": format!("user{i}")}).to_string();
            let (status, answer) = call(&http, "POST", &url, &auth, Some(body)).await;
            assert_eq!(status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&answer));
            let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
            into.lock().unwrap()[i] = answer["token"].as_str().unwrap().to_owned();
        }
    })
    .await;
    Arc::new(std::mem::take(&mut *tokens.lock().unwrap()))
}

/// `GET /v1/me` at the edge with `tokens[range]`, each expected to be valid.
async fn validate(http: &Http, edge: &str, tokens: &Arc<Vec<String>>, range: std::ops::Range<usize>) {
    let (http, url, tokens) = (http.clone(), format!("{edge}/v1/me"), Arc::clone(tokens));
    let start = range.start;
    each(range.len(), move |i| {
        let (http, url, tokens) = (http.clone(), url.clone(), Arc::clone(&tokens));
        async move {
            let (status, answer) =
                call(&http, "GET", &url, &format!("Session {}", tokens[start + i]), None).await;
            assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&answer));
        }
    })
    .await;
}

/// The process's resident set, in bytes, from `/proc/<pid>/status`.
fn rss(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the edge runs here");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .expect("VmRSS");
    kib * 1024
}

/// The value of the sample `name` on `base`'s `/metrics`.
async fn metric(http: &Http, base: &str, key: &str, name: &str) -> f64 {
    let (_, text) = call(http, "GET", &format!("{base}/metrics"), &format!("Bearer {key}"), None).await;
    String::from_utf8_lossy(&text)
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.split(' ').next()?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::main]
async fn main() {
    let (origin, edge, pid, key) = (env("ORIGIN"), env("EDGE"), env("EDGE_PID"), env("KEY"));
    let (sessions, warmup) = (env_or("SESSIONS", 100_000), env_or("WARMUP", 1_000));
    let http: Http =
        Client::builder(TokioExecutor::new()).pool_max_idle_per_host(CONCURRENCY).build(HttpConnector::new());

    let started = Instant::now();
    let tokens = create(&http, &origin, &key, warmup + sessions).await;
    println!("created {} sessions at the origin in {:.1} s", tokens.len(), started.elapsed().as_secs_f64());
    let idle = rss(&pid);
    validate(&http, &edge, &tokens, 0..warmup).await;
    tokio::time::sleep(SETTLE).await;
    let before = rss(&pid);
    let misses_before = metric(&http, &edge, &key, "continuum_edge_cache_misses_total").await;
    let started = Instant::now();
    validate(&http, &edge, &tokens, warmup..warmup + sessions).await;
    let took = started.elapsed();
    tokio::time::sleep(SETTLE).await;
    let after = rss(&pid);
    let misses = metric(&http, &edge, &key, "continuum_edge_cache_misses_total").await - misses_before;
    let hits_before = metric(&http, &edge, &key, "continuum_edge_cache_hits_total").await;
    validate(&http, &edge, &tokens, warmup..warmup + sessions).await;
    let hits = metric(&http, &edge, &key, "continuum_edge_cache_hits_total").await - hits_before;

    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    println!("edge RSS idle {:.1} MiB, after {warmup} warm-up sessions {:.1} MiB", mib(idle), mib(before));
    println!(
        "edge RSS after caching {sessions} more: {:.1} MiB (+{:.1} MiB); {:.0} validations/s, {misses} misses",
        mib(after),
        mib(after.saturating_sub(before)),
        sessions as f64 / took.as_secs_f64()
    );
    println!("second pass: {hits} of {sessions} answered from the cache");
    println!("bytes per cached session: {:.0}", after.saturating_sub(before) as f64 / sessions as f64);
    assert_eq!(misses as usize, sessions, "every measured session was fetched once");
    assert_eq!(hits as usize, sessions, "and is still in the cache");
}
