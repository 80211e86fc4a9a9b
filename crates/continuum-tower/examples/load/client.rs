//! The closed loop: `connections` keep-alive clients, each logged in with its own cookie, looping
//! `GET /me` through a warm-up and a timed window; the same for every app under test.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The load's shape, the same for every app.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Concurrent clients (keep-alive connections).
    pub connections: u64,
    /// Requests before the window are sent but not counted.
    pub warmup: Duration,
    /// The timed window.
    pub window: Duration,
}

/// What one app achieved in the window.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    /// `GET /me` answered 200 naming the client's own user, per second of the window.
    pub rate: f64,
    /// Median latency of those answers, µs.
    pub p50_us: u64,
    /// 99th percentile, µs.
    pub p99_us: u64,
    /// Requests started in the window that failed: a broken connection, a status other than 200,
    /// or an answer that does not name the client's user (the session was not recognised).
    pub errors: u64,
}

type Http = Client<HttpConnector, Empty<Bytes>>;

/// An answer: its status, the `name=value` of the cookie it set, and its body.
struct Answer {
    status: StatusCode,
    cookie: Option<String>,
    body: Bytes,
}

async fn call(http: &Http, method: Method, url: &str, cookie: Option<&str>) -> anyhow::Result<Answer> {
    let mut request = Request::builder().method(method).uri(url);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = http.request(request.body(Empty::new())?).await?;
    let status = response.status();
    // The whole `name=value` pair: Continuum names its cookie `session`, tower-sessions `id`.
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let body = response.into_body().collect().await?.to_bytes();
    Ok(Answer { status, cookie, body })
}

/// Logs in `shape.connections` users `u0`, `u1`, … at `base` (`http://host:port`), then has
/// each loop `GET /me` with its own cookie until the window ends.
pub async fn measure(base: &str, shape: Shape) -> anyhow::Result<Measured> {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let http: Http = Client::builder(TokioExecutor::new()).build(connector);
    let mut cookies = Vec::new();
    for n in 0..shape.connections {
        let url = format!("{base}/login?user=u{n}");
        let answer = call(&http, Method::POST, &url, None).await.with_context(|| format!("POST {url}"))?;
        let Some(cookie) = answer.cookie.filter(|_| answer.status == StatusCode::OK) else {
            bail!("POST {url} answered {} without a session cookie", answer.status);
        };
        cookies.push(cookie);
    }
    let start = Instant::now() + shape.warmup;
    let end = start + shape.window;
    let mut workers = tokio::task::JoinSet::new();
    for (n, cookie) in cookies.into_iter().enumerate() {
        let http = http.clone();
        let url = format!("{base}/me");
        let expected = format!("\"principal\":\"u{n}\"");
        workers.spawn(async move {
            let mut histogram = Histogram::<u64>::new(3)?;
            let mut errors = 0u64;
            while Instant::now() < end {
                let sent = Instant::now();
                let ok = match call(&http, Method::GET, &url, Some(&cookie)).await {
                    Ok(answer) => answer.status == StatusCode::OK && names(&answer.body, &expected),
                    Err(_) => false,
                };
                if sent < start {
                    continue;
                }
                if ok {
                    histogram.record(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX))?;
                } else {
                    errors += 1;
                }
            }
            anyhow::Ok((histogram, errors))
        });
    }
    let mut all = Histogram::<u64>::new(3)?;
    let mut errors = 0;
    while let Some(joined) = workers.join_next().await {
        let (histogram, failed) = joined??;
        all.add(histogram)?;
        errors += failed;
    }
    Ok(Measured {
        rate: all.len() as f64 / shape.window.as_secs_f64(),
        p50_us: all.value_at_quantile(0.5),
        p99_us: all.value_at_quantile(0.99),
        errors,
    })
}

/// Whether a compact JSON body holds `expected` (`"principal":"u7"`).
fn names(body: &[u8], expected: &str) -> bool {
    std::str::from_utf8(body).is_ok_and(|text| text.contains(expected))
}
