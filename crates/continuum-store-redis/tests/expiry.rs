//! The keys behind the trait on one server: Redis's real-time expiry, index entries left
//! behind, a deadline moved earlier. The same scenarios run on the cluster in `on_cluster.rs`.

mod common;

use common::scenarios;
use common::{Cleanup, shared_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_time_expiry_follows_the_purge_time() {
    let cleanup = Cleanup::new(vec![shared_url()]);
    scenarios::real_time_expiry_follows_the_purge_time(&shared_url(), &cleanup).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_past_by_the_servers_clock_sets_no_expiry() {
    let cleanup = Cleanup::new(vec![shared_url()]);
    scenarios::a_deadline_past_by_the_servers_clock_sets_no_expiry(&shared_url(), &cleanup).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_clears_entries_of_keys_redis_expired() {
    let cleanup = Cleanup::new(vec![shared_url()]);
    scenarios::the_sweeper_clears_entries_of_keys_redis_expired(&shared_url(), &cleanup).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_principal_entries_are_never_listed() {
    let cleanup = Cleanup::new(vec![shared_url()]);
    scenarios::stale_principal_entries_are_never_listed(&shared_url(), &cleanup).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replace_with_an_earlier_deadline_is_purged_on_time() {
    let cleanup = Cleanup::new(vec![shared_url()]);
    scenarios::a_replace_with_an_earlier_deadline_is_purged_on_time(&shared_url(), &cleanup).await;
}
