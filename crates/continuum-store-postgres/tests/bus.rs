//! The nodes' bus on LISTEN/NOTIFY: two nodes on one schema hear each other and not
//! themselves, another schema hears nothing, an update too large for NOTIFY is announced
//! without its bytes, and a killed listener comes back and reports the gap.

mod common;

use common::{TestSchema, raw_client};
use continuum_core::DocKey;
use continuum_store::testkit::bus::{
    a_broken_subscription_is_a_gap, heard, nodes_hear_each_other_not_themselves,
};
use continuum_store::{Bus, Heard, Notice};
use continuum_store_postgres::PostgresBus;
use continuum_store_postgres::bus::channel_name;

async fn bus(schema: &TestSchema) -> PostgresBus {
    PostgresBus::connect(&schema.config(), &schema.store().await).await.expect("listen")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_on_one_schema_hear_each_other() {
    let (schema, elsewhere) = (TestSchema::new(), TestSchema::new());
    let (a, b, other) = (bus(&schema).await, bus(&schema).await, bus(&elsewhere).await);
    nodes_hear_each_other_not_themselves(&a, &b, &other).await;

    let mut on_a = a.subscribe();
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
    let kill = async {
        let admin = raw_client().await;
        let name = format!("continuum bus {}", channel_name(Some(&schema.name)));
        let sql = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1";
        let killed = admin.query(sql, &[&name]).await.unwrap();
        assert_eq!(killed.len(), 2, "both listeners were found");
    };
    a_broken_subscription_is_a_gap(&a, &b, kill).await;
}
