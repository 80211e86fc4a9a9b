//! The bus scenario: two nodes' buses on one store prefix hear each other and not themselves,
//! another prefix hears nothing, and a broken subscription comes back as a gap.

use std::time::Duration;

use continuum_core::{Principal, SessionId, Timestamp};
use continuum_store::{Bus, Heard, Notice, SessionEvent, SessionEventKind};
use continuum_store_redis::RedisBus;
use tokio::sync::broadcast;

use super::{Cleanup, connect};

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

/// Runs the scenario against `url`; `subscriber_node` is the Redis node the buses subscribe on
/// (the first seed node of a cluster), where the subscriptions are killed.
pub async fn nodes_hear_each_other(url: &str, subscriber_node: &str, cleanup: &Cleanup) {
    let prefix = cleanup.prefix();
    let a = RedisBus::connect(&connect(url, prefix.clone()).await).await.unwrap();
    let b = RedisBus::connect(&connect(url, prefix).await).await.unwrap();
    let other = RedisBus::connect(&connect(url, cleanup.prefix()).await).await.unwrap();
    let (mut on_a, mut on_b, mut on_other) = (a.subscribe(), b.subscribe(), other.subscribe());

    let notice = revoked("alice");
    a.publish(&notice).await.unwrap();
    assert_eq!(heard(&mut on_b).await, Heard::Notice(notice.into()));
    silent(&mut on_a).await;
    silent(&mut on_other).await;

    // Kill every pub/sub connection on the subscribers' node: each bus subscribes again and
    // reports the gap, then hears what is published after.
    let mut admin =
        redis::Client::open(subscriber_node).unwrap().get_multiplexed_async_connection().await.unwrap();
    let killed: i64 =
        redis::cmd("CLIENT").arg("KILL").arg("TYPE").arg("pubsub").query_async(&mut admin).await.unwrap();
    assert!(killed >= 3, "killed {killed} subscriptions");
    assert_eq!(heard(&mut on_b).await, Heard::Gap);
    assert_eq!(heard(&mut on_a).await, Heard::Gap);
    let after = revoked("bob");
    b.publish(&after).await.unwrap();
    assert_eq!(heard(&mut on_a).await, Heard::Notice(after.into()));
}
