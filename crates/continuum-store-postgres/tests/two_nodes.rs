//! Two stores on one schema, each with its own pool, as two nodes of a deployment would have:
//! compare-and-swap across them loses nothing, sweepers share the work without blocking each
//! other, and nodes starting at once migrate the schema exactly once.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{START, TestSchema};
use continuum_core::{ManualClock, NewSession, Principal};
use continuum_store::{SessionError, Sessions};
use continuum_store_postgres::migrations::MIGRATIONS;
use continuum_store_postgres::{PostgresStore, PostgresStoreError};
use serde_json::{Value, json};

fn ask(principal: &str, idle_secs: u64) -> NewSession {
    NewSession {
        principal: Some(Principal::parse(principal).expect("principal")),
        idle_timeout_secs: Some(idle_secs),
        absolute_timeout_secs: Some(3600),
        ..NewSession::default()
    }
}

async fn two_nodes(schema: &TestSchema, clock: &ManualClock) -> [Sessions; 2] {
    let (a, b) = (schema.store().await, schema.store().await);
    [common::sessions(&a, clock), common::sessions(&b, clock)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_patches_through_two_nodes_lose_nothing() {
    let schema = TestSchema::new();
    let clock = ManualClock::new(START);
    let nodes = two_nodes(&schema, &clock).await;
    let (created, _) = nodes[0].create(ask("alice", 600)).await.expect("create on A");
    let mut tasks = Vec::new();
    for i in 0..64 {
        let node = nodes[i % 2].clone();
        let sid = created.sid;
        tasks.push(tokio::spawn(async move {
            node.patch_attributes(&sid, &json!({ format!("key{i}"): i }), None).await.map(|_| ())
        }));
    }
    for task in tasks {
        task.await.expect("task").expect("every patch succeeds");
    }
    for node in &nodes {
        let stored = node.get(&created.sid).await.expect("get");
        for i in 0..64 {
            assert_eq!(stored.attributes.get(&format!("key{i}")), Some(&json!(i)), "key{i} lost");
        }
        assert_eq!(stored.version, 65, "one version per patch");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_match_through_two_nodes_counts_every_success_once() {
    let schema = TestSchema::new();
    let clock = ManualClock::new(START);
    let nodes = two_nodes(&schema, &clock).await;
    let (created, _) = nodes[0].create(ask("alice", 600)).await.expect("create");
    let mut tasks = Vec::new();
    for t in 0..16 {
        let node = nodes[t % 2].clone();
        let sid = created.sid;
        tasks.push(tokio::spawn(async move {
            let mut successes = 0u64;
            for _ in 0..8 {
                let current = node.get(&sid).await.expect("get");
                let count = current.attributes.get("count").and_then(Value::as_u64).unwrap_or(0);
                match node.patch_attributes(&sid, &json!({"count": count + 1}), Some(current.version)).await {
                    Ok(_) => successes += 1,
                    Err(SessionError::PreconditionFailed { expected, current }) => {
                        assert!(current > expected, "a conflict reports the newer stored version");
                    }
                    Err(other) => panic!("unexpected {other:?}"),
                }
            }
            successes
        }));
    }
    let mut successes = 0;
    for task in tasks {
        successes += task.await.expect("task");
    }
    let stored = nodes[1].get(&created.sid).await.expect("get");
    assert!(successes > 0);
    assert_eq!(stored.attributes.get("count"), Some(&json!(successes)));
    assert_eq!(stored.version, 1 + successes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sweepers_purge_each_expired_session_exactly_once() {
    const EXPIRED: usize = 300;
    let schema = TestSchema::new();
    let clock = ManualClock::new(START);
    let nodes = two_nodes(&schema, &clock).await;
    for i in 0..EXPIRED {
        nodes[i % 2].create(ask("carol", 60)).await.expect("create");
    }
    let mut live = HashSet::new();
    for _ in 0..5 {
        live.insert(nodes[0].create(ask("carol", 600)).await.expect("create").0.sid);
    }
    clock.advance(Duration::from_secs(61));

    let mut sweepers = Vec::new();
    for node in &nodes {
        let node = node.clone();
        sweepers.push(tokio::spawn(async move {
            let (mut purged, mut calls) = (0, 0);
            loop {
                calls += 1;
                match node.purge_expired(7).await.expect("purge") {
                    0 => return (purged, calls),
                    n => purged += n,
                }
            }
        }));
    }
    let mut total = 0;
    for sweeper in sweepers {
        let (purged, calls) = sweeper.await.expect("sweeper");
        assert!(calls > 1 || purged == 0);
        total += purged;
    }
    assert_eq!(total, EXPIRED, "every expired session purged once, by one sweeper or the other");
    assert_eq!(nodes[1].store().count().await.expect("count"), live.len() as u64);
    let left = nodes[0].list(&Principal::parse("carol").expect("principal")).await.expect("list");
    assert_eq!(left.iter().map(|record| record.sid).collect::<HashSet<_>>(), live);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweeper_skips_a_locked_session_instead_of_waiting() {
    let schema = TestSchema::new();
    let clock = ManualClock::new(START);
    let [node, _] = two_nodes(&schema, &clock).await;
    let (held, _) = node.create(ask("dave", 60)).await.expect("create");
    for _ in 0..3 {
        node.create(ask("dave", 60)).await.expect("create");
    }
    clock.advance(Duration::from_secs(61));

    // Another node holds the row, e.g. in the middle of writing it.
    let mut other = common::raw_client().await;
    let tx = other.transaction().await.expect("begin");
    let sql = format!("SELECT 1 FROM {}.sessions WHERE sid = $1 FOR UPDATE", schema.name);
    let sid: &[u8] = held.sid.as_bytes();
    assert_eq!(tx.execute(&sql, &[&sid]).await.expect("lock the row"), 1);

    let purged = tokio::time::timeout(Duration::from_secs(10), node.purge_expired(100))
        .await
        .expect("the sweep does not wait for the lock")
        .expect("purge");
    assert_eq!(purged, 3, "the three unlocked sessions");
    assert!(node.store().get(&held.sid).await.expect("get").is_some(), "the locked one is left");
    tx.commit().await.expect("release");
    assert_eq!(node.purge_expired(100).await.expect("purge"), 1, "and purged by the next sweep");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_at_once_migrate_the_schema_once() {
    let schema = TestSchema::new();
    let mut starts = Vec::new();
    for _ in 0..4 {
        let config = schema.config();
        starts.push(tokio::spawn(PostgresStore::connect(config)));
    }
    let mut stores = Vec::new();
    for start in starts {
        stores.push(start.await.expect("task").expect("every node starts"));
    }
    let client = common::raw_client().await;
    let sql = format!("SELECT version, name FROM {}.continuum_migrations ORDER BY version", schema.name);
    let recorded: Vec<(i32, String)> =
        client.query(&sql, &[]).await.expect("read").iter().map(|row| (row.get(0), row.get(1))).collect();
    let expected: Vec<(i32, String)> = MIGRATIONS.iter().map(|m| (m.version, m.name.to_owned())).collect();
    assert_eq!(recorded, expected, "each migration applied and recorded once");

    // A later start finds nothing to do, and the data written before is there.
    let clock = ManualClock::new(START);
    let (created, token) =
        common::sessions(&stores[0], &clock).create(ask("erin", 600)).await.expect("create");
    drop(stores);
    let restarted = schema.store().await;
    let validated = common::sessions(&restarted, &clock).validate(&token).await.expect("valid after restart");
    assert_eq!(validated.sid, created.sid);
    let after: i64 = client
        .query_one(&format!("SELECT count(*) FROM {}.continuum_migrations", schema.name), &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(after, MIGRATIONS.len() as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_migrated_by_a_newer_build_is_refused() {
    let schema = TestSchema::new();
    drop(schema.store().await);
    let client = common::raw_client().await;
    let sql = format!(
        "INSERT INTO {}.continuum_migrations (version, name) VALUES (99, '0099_future')",
        schema.name
    );
    client.batch_execute(&sql).await.expect("record a future migration");
    match PostgresStore::connect(schema.config()).await {
        Err(PostgresStoreError::UnknownMigration { version: 99, name }) => assert_eq!(name, "0099_future"),
        other => panic!("expected UnknownMigration, got {other:?}"),
    }
    let renamed = format!(
        "DELETE FROM {0}.continuum_migrations WHERE version = 99;
         UPDATE {0}.continuum_migrations SET name = 'something_else' WHERE version = 1",
        schema.name
    );
    client.batch_execute(&renamed).await.expect("rename a migration");
    assert!(matches!(
        PostgresStore::connect(schema.config()).await,
        Err(PostgresStoreError::MigrationMismatch { version: 1, .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_touch_on_one_node_moves_the_deadline_the_other_sweeps_by() {
    let schema = TestSchema::new();
    let clock = ManualClock::new(START);
    let nodes = two_nodes(&schema, &clock).await;
    let (_, token) = nodes[0].create(ask("frank", 100)).await.expect("create");
    clock.advance(Duration::from_secs(90));
    nodes[0].validate(&token).await.expect("validate on A persists the touch");
    clock.advance(Duration::from_secs(20));
    assert_eq!(nodes[1].purge_expired(100).await.expect("purge"), 0, "B sees the moved deadline");
    let on_b = nodes[1].validate(&token).await.expect("valid on B");
    assert_eq!(on_b.version, 1, "touches do not change the version");
    let stored = nodes[1].store().get(&token.sid).await.expect("get").expect("present");
    assert_eq!(stored.last_seen_at, START + Duration::from_secs(110), "B's own touch, read back");
    clock.advance(Duration::from_secs(99));
    assert_eq!(nodes[0].purge_expired(100).await.expect("purge"), 0, "A sees B's touch: not before 210 s");
    clock.advance(Duration::from_secs(1));
    assert_eq!(nodes[0].purge_expired(100).await.expect("purge"), 1);
}
