//! Two server nodes over one Redis behave as one session service (see common/nodes.rs).

mod common;

use continuum_backends::StoreConfig;

/// Redis database 9 of the test server is this test's alone; it is emptied before and after.
fn url() -> String {
    let base =
        std::env::var("CONTINUUM_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    format!("{}/9", base.trim_end_matches('/'))
}

async fn flush() {
    let client = redis::Client::open(url()).expect("redis url");
    let mut connection = client.get_multiplexed_async_connection().await.expect("connect to the test Redis");
    let _: () = redis::cmd("FLUSHDB").query_async(&mut connection).await.expect("FLUSHDB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_redis_share_sessions_and_revocations() {
    flush().await;
    common::nodes::two_nodes_share_sessions(StoreConfig::Redis(url())).await;
    flush().await;
    // In the same test: both scenarios use this database, which one test at a time may flush.
    common::nodes::two_nodes_fan_out_live(StoreConfig::Redis(url())).await;
    flush().await;
}
