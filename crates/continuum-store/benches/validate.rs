//! Sealed validate against store-backed validate, in one process and one run: what the sealed
//! strategy costs in CPU (decrypt, decode, a cached epoch) where a stored session costs a store
//! read. The store here is `MemoryStore`, the cheapest read there is (the embedded redb store
//! reads the same kind of in-memory table); over Redis or PostgreSQL each stored validate adds a
//! network round trip that the sealed one does not make.
//!
//! `cargo bench -p continuum-store --bench validate`

// `criterion_group!` defines an undocumented function.
#![allow(missing_docs)]

use std::sync::Arc;

use continuum_core::seal::{KeyRing, SealKey};
use continuum_core::{Device, NewSession, Principal, SystemClock};
use continuum_store::{MemoryStore, SealedConfig, SealedSessions, Sessions};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

fn ask() -> NewSession {
    NewSession {
        principal: Some(Principal::parse("alice@example.com").expect("principal")),
        device: Device { label: Some("Firefox on a laptop".into()), user_agent: None },
        attributes: json!({"theme": "dark", "cart": {"items": 2}, "step": 3})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        ..NewSession::default()
    }
}

fn validate(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(SystemClock);
    let sessions = Sessions::new(Arc::clone(&store) as _, Arc::clone(&clock) as _);
    let ring = KeyRing::new(vec![SealKey::generate(), SealKey::generate()]).expect("ring");
    let sealed = SealedSessions::new(ring, store, clock, SealedConfig::new("__Host-continuum"));
    // 1,000 sessions of each kind, validated round-robin, like `continuum bench`'s pool.
    let (stored_tokens, sealed_tokens) = runtime.block_on(async {
        let mut stored = Vec::new();
        let mut sealed_tokens = Vec::new();
        for _ in 0..1000 {
            stored.push(sessions.create(ask()).await.expect("create").1);
            sealed_tokens.push(sealed.create(ask()).await.expect("create sealed").1);
        }
        (stored, sealed_tokens)
    });
    let mut group = c.benchmark_group("validate");
    let mut i = 0;
    group.bench_function("stored (memory store)", |b| {
        b.iter(|| {
            i = (i + 1) % stored_tokens.len();
            runtime.block_on(sessions.validate(&stored_tokens[i])).expect("valid")
        })
    });
    let mut i = 0;
    group.bench_function("sealed", |b| {
        b.iter(|| {
            i = (i + 1) % sealed_tokens.len();
            runtime.block_on(sealed.validate(&sealed_tokens[i])).expect("valid")
        })
    });
    group.finish();
}

criterion_group!(benches, validate);
criterion_main!(benches);
