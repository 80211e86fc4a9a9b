//! The edge's figures for BENCHMARKS.md, one run on loopback: an origin (`continuum_server::run`
//! over the store `ORIGIN_STORE` names — `redb`, the default, or e.g. `redis://127.0.0.1:6379`)
//! and an edge of it (`continuum_edge::run`) in this process, then
//!
//! - `GET /v1/me` at the edge (a cache hit) against `GET /v1/me` at the origin (a store read),
//!   the same token, `CONCURRENCY` callers for `SECONDS` each, interleaved twice;
//! - a revocation's time from the origin's 204 to the first 401 at the edge (polled
//!   back to back), p50 / p99 over `REVOCATIONS` sessions;
//! - replay throughput: `REPLAYED` one-key Yjs updates of one session pushed into an edge queue
//!   (the origin meanwhile "away": the replayer not started), then the time until the replayer
//!   has the origin's mark for all of them.
//!
//! `ORIGIN_STORE=redis://127.0.0.1:6379 cargo run --release -p continuum-edge --example edge_bench`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use continuum_edge::EdgeConfig;
use continuum_server::{Metrics, ServerConfig};
use hdrhistogram::Histogram;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;

const KEY: &str = "ck_edge_bench_key_0123456789abcdefghijklmnopqrstu";
const CONCURRENCY: usize = 16;
const SECONDS: u64 = 3;
const REVOCATIONS: usize = 500;
const REPLAYED: usize = 20_000;

type Http = Client<HttpConnector, Body>;

async fn call(
    http: &Http,
    method: &str,
    url: &str,
    auth: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let mut request = Request::builder().method(method).uri(url).header(header::AUTHORIZATION, auth);
    let body = match body {
        Some(json) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let response = http.request(request.body(body).unwrap()).await.expect("the server answers");
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

async fn login(http: &Http, origin: &str) -> (String, String) {
    let body = serde_json::json!({"principal": "bench"});
    let (status, answer) =
        call(http, "POST", &format!("{origin}/v1/sessions"), &format!("Bearer {KEY}"), Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    (answer["session"]["sid"].as_str().unwrap().to_owned(), answer["token"].as_str().unwrap().to_owned())
}

/// Requests per second and the latency histogram (µs) of `GET /v1/me` at `base`.
async fn validate_load(http: &Http, base: &str, token: &str) -> (f64, Histogram<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let mut callers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (http, url, auth, stop, count) =
            (http.clone(), format!("{base}/v1/me"), format!("Session {token}"), stop.clone(), count.clone());
        callers.push(tokio::spawn(async move {
            let mut latencies = Histogram::<u64>::new(3).unwrap();
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let (status, _) = call(&http, "GET", &url, &auth, None).await;
                assert_eq!(status, StatusCode::OK);
                latencies.record(started.elapsed().as_micros() as u64).unwrap();
                count.fetch_add(1, Ordering::Relaxed);
            }
            latencies
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(SECONDS)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Histogram::<u64>::new(3).unwrap();
    for caller in callers {
        all.add(caller.await.unwrap()).unwrap();
    }
    (count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64(), all)
}

#[tokio::main]
async fn main() {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut server = ServerConfig::new(dirs.0.path());
    server.api_keys = vec![KEY.to_owned()];
    server.dev = true;
    let origin_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", origin_listener.local_addr().unwrap());
    let store: continuum_backends::StoreConfig =
        std::env::var("ORIGIN_STORE").unwrap_or_else(|_| "redb".into()).parse().expect("a store");
    println!("origin store: {store:?}");
    let stores =
        continuum_backends::open(&store, dirs.0.path(), Default::default()).await.expect("the store opens");
    tokio::spawn(continuum_server::run(
        server,
        stores,
        Arc::new(Metrics::new()),
        origin_listener,
        std::future::pending(),
        |_| Default::default(),
    ));
    let mut edge_server = ServerConfig::new(dirs.1.path());
    edge_server.dev = true;
    let edge_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let edge = format!("http://{}", edge_listener.local_addr().unwrap());
    tokio::spawn(continuum_edge::run(
        EdgeConfig::new(origin.clone(), KEY, edge_server),
        edge_listener,
        std::future::pending(),
    ));

    let http: Http =
        Client::builder(TokioExecutor::new()).pool_max_idle_per_host(64).build(HttpConnector::new());
    tokio::time::sleep(Duration::from_millis(500)).await; // the edge opens the event stream
    let (_, token) = login(&http, &origin).await;
    for round in 1..=2 {
        for (name, base) in [("origin", &origin), ("edge (cache hit)", &edge)] {
            let (rate, latencies) = validate_load(&http, base, &token).await;
            println!(
                "round {round} GET /v1/me at the {name}: {rate:.0} req/s, p50 {} µs, p99 {} µs",
                latencies.value_at_quantile(0.5),
                latencies.value_at_quantile(0.99)
            );
        }
    }

    let mut push = Histogram::<u64>::new(3).unwrap();
    for _ in 0..REVOCATIONS {
        let (sid, token) = login(&http, &origin).await;
        let me = format!("{edge}/v1/me");
        let auth = format!("Session {token}");
        assert_eq!(call(&http, "GET", &me, &auth, None).await.0, StatusCode::OK);
        let (status, _) =
            call(&http, "DELETE", &format!("{origin}/v1/sessions/{sid}"), &format!("Bearer {KEY}"), None)
                .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let answered = Instant::now();
        loop {
            let (status, _) = call(&http, "GET", &me, &auth, None).await;
            if status == StatusCode::UNAUTHORIZED {
                break;
            }
            assert_eq!(status, StatusCode::OK);
        }
        push.record(answered.elapsed().as_micros() as u64).unwrap();
    }
    println!(
        "revocation, origin's 204 to the first 401 at the edge, {REVOCATIONS} sessions: p50 {} µs, p99 {} µs, max {} µs",
        push.value_at_quantile(0.5),
        push.value_at_quantile(0.99),
        push.max()
    );

    replay_throughput(&http, &origin).await;
}

/// Fills a queue while no replayer runs, then times its drain to the origin.
async fn replay_throughput(http: &Http, origin: &str) {
    use yrs::{Map as _, ReadTxn as _, Transact as _};
    let (sid, _) = login(http, origin).await;
    let dir = tempfile::tempdir().unwrap();
    let queue = continuum_edge::queue::EdgeQueue::open(dir.path()).unwrap();
    let key = continuum_core::DocKey::parse("user:bench", "replay").unwrap();
    let sid: continuum_core::SessionId = sid.parse().unwrap();
    let doc = yrs::Doc::new();
    let map = doc.get_or_insert_map("m");
    let mut pushes = tokio::task::JoinSet::new();
    let filled = Instant::now();
    for n in 0..REPLAYED {
        let before = doc.transact().state_vector();
        map.insert(&mut doc.transact_mut(), format!("k{n}"), n as i64);
        let update = doc.transact().encode_state_as_update_v1(&before);
        let (queue, key) = (queue.clone(), key.clone());
        pushes.spawn(async move { queue.push(Some(sid), key, update).await.unwrap() });
    }
    pushes.join_all().await;
    println!("encoded and queued {REPLAYED} updates (group commit, fsync) in {:?}", filled.elapsed());
    let metrics = Arc::new(continuum_edge::EdgeMetrics::default());
    let replayer = continuum_edge::replayer::Replayer {
        queue: queue.clone(),
        origin: continuum_edge::OriginClient::new(origin, KEY).unwrap(),
        edge_id: "bench-replay".into(),
        bus: Arc::new(continuum_edge::EdgeBus::default()),
        metrics: Arc::clone(&metrics),
        upstream: Arc::default(),
        registry: Arc::default(),
    };
    let cancel = tokio_util::sync::CancellationToken::new();
    let started = Instant::now();
    let task = tokio::spawn(replayer.run(cancel.clone()));
    while queue.stats().await.unwrap().0 > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed();
    cancel.cancel();
    task.await.unwrap();
    println!(
        "replayed {REPLAYED} updates to the origin in {took:?}: {:.0} updates/s ({} applied, {} batches)",
        REPLAYED as f64 / took.as_secs_f64(),
        metrics.origin_applied.get(),
        metrics.replays.get()
    );
}
