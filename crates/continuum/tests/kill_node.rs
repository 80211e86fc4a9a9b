//! Two `continuum serve` processes on one shared store; one is killed with SIGKILL while
//! writers are busy on it. Everything it acknowledged — sessions created (201) and document
//! patches (200, answered once durable) — is there on the other node; what was in flight when it
//! died may or may not be, and nothing else is.

mod common;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Server, path};
use serde_json::json;

const KEY: &str = "ck_kill_node_test_key_0123456789abcdefghijklmn";
/// Writes acknowledged on A before it is killed (writers go on while it dies).
const ACKNOWLEDGED_BEFORE_KILL: usize = 120;
const WRITERS: usize = 4;

fn bearer() -> String {
    format!("Bearer {KEY}")
}

/// A random suffix, so runs sharing a store never see each other's data.
fn unique() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{:x}{:x}", nanos, std::process::id())
}

fn start(store: &str, dir: &std::path::Path) -> Server {
    Server::start(&["--data", path(dir), "--store", store], &[("CONTINUUM_API_KEY", KEY)])
}

#[derive(Default)]
struct Acknowledged {
    tokens: Vec<String>,
    fields: Vec<(String, u64)>,
}

fn kill_a_node_while_it_writes(store: &str) {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = Arc::new(start(store, dirs.0.path()));
    let b = start(store, dirs.1.path());
    let run = unique();
    let doc = format!("/v1/docs/user:kill-{run}/draft");

    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (a, stop, count, acknowledged, doc, run) =
                (a.clone(), stop.clone(), count.clone(), acknowledged.clone(), doc.clone(), run.clone());
            std::thread::spawn(move || {
                let auth = bearer();
                for i in 0u64.. {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let created = a.try_request(
                        "POST",
                        "/v1/sessions",
                        &[("authorization", &auth)],
                        Some(&json!({"principal": format!("kill-{run}")})),
                    );
                    if let Some((201, answer)) = created {
                        acknowledged
                            .lock()
                            .unwrap()
                            .tokens
                            .push(answer["token"].as_str().unwrap().to_owned());
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    let field = format!("w{writer}_{i}");
                    let patch = json!({"form": {field.clone(): i}});
                    if let Some((200, _)) =
                        a.try_request("PATCH", &doc, &[("authorization", &auth)], Some(&patch))
                    {
                        acknowledged.lock().unwrap().fields.push((field, i));
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(60);
    while count.load(Ordering::Relaxed) < ACKNOWLEDGED_BEFORE_KILL {
        assert!(Instant::now() < deadline, "the writers got too few answers: {}", a.output.lock().unwrap());
        std::thread::sleep(Duration::from_millis(5));
    }
    a.kill_now();
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.join().unwrap();
    }

    let acknowledged = acknowledged.lock().unwrap();
    assert!(acknowledged.tokens.len() + acknowledged.fields.len() >= ACKNOWLEDGED_BEFORE_KILL);
    let auth = bearer();
    for token in &acknowledged.tokens {
        let (status, answer) = b.request(
            "POST",
            "/v1/sessions/validate",
            &[("authorization", &auth)],
            Some(&json!({"token": token})),
        );
        assert_eq!(status, 200, "a session A acknowledged is valid on B: {answer}");
    }
    let (status, content) = b.request("GET", &doc, &[("authorization", &auth)], None);
    assert_eq!(status, 200, "{content}");
    let form = &content["form"];
    for (field, value) in &acknowledged.fields {
        assert_eq!(form[field], json!(value), "{field} was acknowledged by A before it died");
    }
    let stored = form.as_object().map_or(0, serde_json::Map::len);
    assert!(stored >= acknowledged.fields.len(), "{stored} fields stored");
    assert!(
        stored <= acknowledged.fields.len() + WRITERS,
        "only writes in flight may be there unacknowledged"
    );
    b.stop();
}

#[test]
fn killing_a_node_on_redis_loses_nothing_it_acknowledged() {
    let base =
        std::env::var("CONTINUUM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    kill_a_node_while_it_writes(&format!("{}/11", base.trim_end_matches('/')));
}

#[test]
fn killing_a_node_on_postgres_loses_nothing_it_acknowledged() {
    let url = std::env::var("CONTINUUM_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    kill_a_node_while_it_writes(&url);
}
