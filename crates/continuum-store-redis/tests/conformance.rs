//! Both conformance suites against the shared Redis server, each check under its own prefix.

mod common;

use common::{Cleanup, doc_suite, session_suite, shared_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_conformance_on_one_server() {
    let cleanup = Cleanup::new(vec![shared_url()]);
    session_suite(&shared_url(), &cleanup).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doc_conformance_on_one_server() {
    let cleanup = Cleanup::new(vec![shared_url()]);
    doc_suite(&shared_url(), &cleanup).await;
}
