//! [`Workload`]: the request each scenario sends next on one connection, and the [`SessionPool`]
//! the `validate` and `patch` scenarios use. Deciding what to send is kept apart from sending it.

use std::sync::Arc;

use http::Request;
use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::json;

use super::scenario::Scenario;
use continuum_client::requests;
use continuum_client::{BearerKey, CreateSession};
use continuum_core::Device;

/// How many distinct attribute keys `patch` cycles through per session, so that successive
/// patches change different keys while attributes stay far below the server's size limit.
pub const PATCH_KEYS: u64 = 8;

/// The device label of every session the bench creates.
pub const BENCH_LABEL: &str = "continuum bench";

/// Sessions created before measuring: a token and the sid of each.
#[derive(Clone, Debug, Default)]
pub struct SessionPool {
    /// `<sid>.<secret>` tokens.
    pub tokens: Vec<String>,
    /// Their session ids, in the same order.
    pub sids: Vec<String>,
    /// The `validate` request body of each token, built once so that the load generator spends
    /// no time on JSON while measuring, and kept in static memory (see [`static_bytes`]).
    pub validate_bodies: Vec<Bytes>,
}

impl SessionPool {
    /// Adds a session.
    pub fn push(&mut self, token: String, sid: String) {
        self.validate_bodies.push(static_bytes(requests::validate_body(&token)));
        self.tokens.push(token);
        self.sids.push(sid);
    }

    /// How many sessions it holds.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }
}

/// `bytes` moved into static memory, for a request part sent many times in a run.
///
/// Handing a `Bytes` to a request clones it, and cloning a heap `Bytes` writes its reference
/// count — an atomic write that, for a body or key every connection sends, moves a cache line
/// between the cores on each request: a cost of the load generator, not of the server, that
/// `hello` (no key, no body) does not pay. A static `Bytes` clones as a plain copy. The memory is
/// never freed, which bounds its use to what a run builds once: one body per pooled session and
/// one API key header (about 100 bytes each).
pub fn static_bytes(bytes: Bytes) -> Bytes {
    Bytes::from_static(Vec::from(bytes).leak())
}

/// The request stream of one connection: connection `worker` of `connections` takes pool entries
/// `worker, worker + connections, ...` so connections spread over the pool without sharing a
/// counter.
#[derive(Clone, Debug)]
pub struct Workload {
    scenario: Scenario,
    key: Option<BearerKey>,
    pool: Arc<SessionPool>,
    worker: usize,
    connections: usize,
    seq: u64,
}

impl Workload {
    /// The stream of connection `worker` out of `connections`. `key` is needed by every scenario
    /// but `hello`, `pool` must not be empty for `validate` and `patch`, and the document
    /// scenarios have no HTTP workload.
    pub fn new(
        scenario: Scenario,
        key: Option<BearerKey>,
        pool: Arc<SessionPool>,
        worker: usize,
        connections: usize,
    ) -> Self {
        assert!(!scenario.needs_pool() || !pool.is_empty(), "{scenario} needs a session pool");
        assert!(!scenario.needs_key() || key.is_some(), "{scenario} needs an API key");
        assert!(!scenario.is_sync(), "{scenario} opens sync sockets, not HTTP requests");
        Self { scenario, key, pool, worker, connections: connections.max(1), seq: 0 }
    }

    fn pool_index(&self) -> usize {
        let seq = usize::try_from(self.seq).unwrap_or(usize::MAX);
        self.worker.wrapping_add(seq.wrapping_mul(self.connections)) % self.pool.len()
    }

    /// The next request.
    pub fn next_request(&mut self) -> Request<Full<Bytes>> {
        let key = || self.key.as_ref().expect("checked in Workload::new");
        let request = match self.scenario {
            Scenario::Hello => requests::hello(),
            Scenario::Validate => {
                let body = self.pool.validate_bodies[self.pool_index()].clone();
                requests::validate_with_body(key(), body)
            }
            Scenario::Patch => {
                let patch = json!({ format!("k{}", self.seq % PATCH_KEYS): self.seq });
                requests::patch_attributes(key(), &self.pool.sids[self.pool_index()], &patch, None)
            }
            Scenario::Create | Scenario::IdleMemory => {
                requests::create_session(key(), &create_body(self.worker, self.seq))
            }
            Scenario::DocUpdates
            | Scenario::Fanout
            | Scenario::Reconnect
            | Scenario::DocMemory
            | Scenario::Burst => {
                unreachable!("checked in Workload::new")
            }
        };
        self.seq += 1;
        request
    }
}

/// A new session for bench user `bench-<worker>-<seq>`: one session per user, as after a login.
pub fn create_body(worker: usize, seq: u64) -> CreateSession {
    CreateSession {
        principal: Some(format!("bench-{worker}-{seq}")),
        device: Some(Device { label: Some(BENCH_LABEL.to_owned()), user_agent: None }),
        ..CreateSession::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;

    fn pool(n: usize) -> SessionPool {
        let mut pool = SessionPool::default();
        for i in 0..n {
            pool.push(format!("sid{i}.secret{i}"), format!("sid{i}"));
        }
        pool
    }

    async fn body(request: Request<Full<Bytes>>) -> serde_json::Value {
        let bytes = request.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn validate_walks_the_pool_with_a_stride() {
        let key = BearerKey::new("ck_test").unwrap();
        let mut workload = Workload::new(Scenario::Validate, Some(key), Arc::new(pool(5)), 1, 2);
        let mut tokens = Vec::new();
        for _ in 0..4 {
            let request = workload.next_request();
            assert_eq!(request.uri().path(), "/v1/sessions/validate");
            tokens.push(body(request).await["token"].as_str().unwrap().to_owned());
        }
        assert_eq!(tokens, ["sid1.secret1", "sid3.secret3", "sid0.secret0", "sid2.secret2"]);
    }

    #[tokio::test]
    async fn patch_changes_a_different_key_each_time_and_never_sends_if_match() {
        let key = BearerKey::new("ck_test").unwrap();
        let mut workload = Workload::new(Scenario::Patch, Some(key), Arc::new(pool(1)), 0, 1);
        let first = workload.next_request();
        assert_eq!(first.method(), http::Method::PATCH);
        assert_eq!(first.uri().path(), "/v1/sessions/sid0/attributes");
        assert!(!first.headers().contains_key(http::header::IF_MATCH));
        assert_eq!(body(first).await, json!({"k0": 0}));
        assert_eq!(body(workload.next_request()).await, json!({"k1": 1}));
        for _ in 2..PATCH_KEYS {
            workload.next_request();
        }
        assert_eq!(body(workload.next_request()).await, json!({"k0": PATCH_KEYS}), "keys cycle");
    }

    #[tokio::test]
    async fn create_makes_one_user_per_session_and_hello_needs_nothing() {
        let key = BearerKey::new("ck_test").unwrap();
        let empty = Arc::new(SessionPool::default());
        let mut workload = Workload::new(Scenario::Create, Some(key), empty.clone(), 3, 8);
        let created = body(workload.next_request()).await;
        assert_eq!(created, json!({"principal": "bench-3-0", "device": {"label": BENCH_LABEL}}));
        assert_eq!(body(workload.next_request()).await["principal"], "bench-3-1");
        let mut hello = Workload::new(Scenario::Hello, None, empty, 0, 1);
        assert_eq!(hello.next_request().uri().path(), "/hello");
    }

    #[tokio::test]
    async fn validate_repeats_its_walk_after_a_full_cycle() {
        let key = BearerKey::new("ck_test").unwrap();
        // 6 entries, 4 connections: connection 1 visits 1, 5, 3 and then 1 again.
        let mut workload = Workload::new(Scenario::Validate, Some(key), Arc::new(pool(6)), 1, 4);
        let mut tokens = Vec::new();
        for _ in 0..7 {
            tokens.push(body(workload.next_request()).await["token"].as_str().unwrap().to_owned());
        }
        let expected = ["sid1", "sid5", "sid3", "sid1", "sid5", "sid3", "sid1"];
        let expected: Vec<String> = expected.iter().map(|sid| format!("{sid}.secret{}", &sid[3..])).collect();
        assert_eq!(tokens, expected);
    }

    #[test]
    #[should_panic(expected = "needs a session pool")]
    fn pool_scenarios_refuse_an_empty_pool() {
        let key = BearerKey::new("ck_test").unwrap();
        let empty = Arc::new(SessionPool::default());
        Workload::new(Scenario::Validate, Some(key), empty, 0, 1);
    }
}
