//! The nodes' bus on LISTEN/NOTIFY: two nodes on one schema hear each other and not
//! themselves, another schema hears nothing, an update too large for NOTIFY is announced
//! without its bytes, and a killed listener comes back and reports the gap.

mod common;

use std::time::Duration;

use common::{TestSchema, raw_client};
use continuum_core::{DocKey, Principal, SessionId, Timestamp};
use continuum_store::{Bus, Heard, Notice, SessionEvent, SessionEventKind};
use continuum_store_postgres::PostgresBus;
use continuum_store_postgres::bus::channel_name;
use tokio::sync::broadcast;

const SOON: Duration = Duration::from_secs(10);
const QUIET: Duration = Duration::from_millis(300);

fn revoked(principal: &str) -> Notice {
    Notice::Session(SessionEvent {
        kind: SessionEventKind::Revoked,
        sid: SessionId::generate(),
        principal: Principal::parse(principal).unwrap(),
        at: Timestamp::from_millis(1_700_000_000_000),
    })
}

async fn heard(receiver: &mut broadcast::Receiver<Heard>) -> Heard {
    tokio::time::timeout(SOON, receiver.recv()).await.expect("heard within the deadline").expect("open")
}

async fn silent(receiver: &mut broadcast::Receiver<Heard>) {
    let got = tokio::time::timeout(QUIET, receiver.recv()).await;
    assert!(got.is_err(), "expected nothing, heard {got:?}");
}

async fn bus(schema: &TestSchema) -> PostgresBus {
    PostgresBus::connect(&schema.config(), &schema.store().await).await.expect("listen")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_on_one_schema_hear_each_other() {
    let (schema, elsewhere) = (TestSchema::new(), TestSchema::new());
    let (a, b, other) = (bus(&schema).await, bus(&schema).await, bus(&elsewhere).await);
    let (mut on_a, mut on_b, mut on_other) = (a.subscribe(), b.subscribe(), other.subscribe());

    let notice = revoked("alice");
    a.publish(&notice).await.unwrap();
    assert_eq!(heard(&mut on_b).await, Heard::Notice(notice.into()));
    silent(&mut on_a).await;
    silent(&mut on_other).await;

    let key = DocKey::parse("user:alice", "draft").unwrap();
    let large = Notice::DocAppended { key: key.clone(), seq: 7, update: Some(vec![1; 20_000]) };
    b.publish(&large).await.unwrap();
    let small = Notice::DocAppended { key: key.clone(), seq: 8, update: Some(vec![2; 3000]) };
    b.publish(&small).await.unwrap();
    let expected_large = Notice::DocAppended { key, seq: 7, update: None };
    assert_eq!(heard(&mut on_a).await, Heard::Notice(expected_large.into()), "too large for NOTIFY");
    assert_eq!(heard(&mut on_a).await, Heard::Notice(small.into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_listener_comes_back_and_reports_the_gap() {
    let schema = TestSchema::new();
    let (a, b) = (bus(&schema).await, bus(&schema).await);
    let (mut on_a, mut on_b) = (a.subscribe(), b.subscribe());
    let admin = raw_client().await;
    let name = format!("continuum bus {}", channel_name(Some(&schema.name)));
    let killed = admin
        .query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", &[&name])
        .await
        .unwrap();
    assert_eq!(killed.len(), 2, "both listeners were found");
    assert_eq!(heard(&mut on_a).await, Heard::Gap);
    assert_eq!(heard(&mut on_b).await, Heard::Gap);
    let after = revoked("bob");
    b.publish(&after).await.unwrap();
    assert_eq!(heard(&mut on_a).await, Heard::Notice(after.into()));
}
