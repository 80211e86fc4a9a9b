//! The bus scenarios of `continuum_store::testkit::bus` on Redis: two nodes' buses on one prefix,
//! a third on another, and their subscriptions killed on the node they subscribe on.

use continuum_store::testkit::bus::{a_broken_subscription_is_a_gap, nodes_hear_each_other_not_themselves};
use continuum_store_redis::RedisBus;

use super::{Cleanup, connect};

/// Runs the scenarios against `url`; `subscriber_node` is the Redis node the buses subscribe on
/// (the first seed node of a cluster), where the subscriptions are killed.
pub async fn nodes_hear_each_other(url: &str, subscriber_node: &str, cleanup: &Cleanup) {
    let prefix = cleanup.prefix();
    let a = RedisBus::connect(&connect(url, prefix.clone()).await).await.unwrap();
    let b = RedisBus::connect(&connect(url, prefix).await).await.unwrap();
    let other = RedisBus::connect(&connect(url, cleanup.prefix()).await).await.unwrap();
    nodes_hear_each_other_not_themselves(&a, &b, &other).await;

    let kill = async {
        let client = redis::Client::open(subscriber_node).unwrap();
        let mut admin = client.get_multiplexed_async_connection().await.unwrap();
        let killed: i64 =
            redis::cmd("CLIENT").arg("KILL").arg("TYPE").arg("pubsub").query_async(&mut admin).await.unwrap();
        assert!(killed >= 3, "killed {killed} subscriptions");
    };
    a_broken_subscription_is_a_gap(&a, &b, kill).await;
}
