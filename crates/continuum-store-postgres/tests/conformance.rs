//! The session and document conformance suites, each check on a fresh schema of its own.

mod common;

use std::sync::{Arc, Mutex};

use common::TestSchema;
use continuum_store::{DocStore, Sessions, testkit};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_conformance() {
    // Alive until every check has run; each drops its schema at the end of the test.
    let schemas = Mutex::new(Vec::new());
    testkit::run_all(|clock| {
        let schema = TestSchema::new();
        let config = schema.config();
        schemas.lock().expect("lock").push(schema);
        async move {
            let store = continuum_store_postgres::PostgresStore::connect(config).await.expect("connect");
            Sessions::new(Arc::new(store), Arc::new(clock))
        }
    })
    .await;
    assert!(schemas.lock().expect("lock").len() >= 15, "every check ran on its own schema");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_conformance() {
    let schemas = Mutex::new(Vec::new());
    testkit::docs::run_all(|| {
        let schema = TestSchema::new();
        let config = schema.config();
        schemas.lock().expect("lock").push(schema);
        async move {
            let store = continuum_store_postgres::PostgresStore::connect(config).await.expect("connect");
            Arc::new(store) as Arc<dyn DocStore>
        }
    })
    .await;
    assert!(schemas.lock().expect("lock").len() >= 12, "every check ran on its own schema");
}
