//! Two server nodes over one PostgreSQL database behave as one session service: a session made
//! on one is valid on the other, a revocation on one is refused on the other at once, and a node
//! restart loses nothing; live document updates and revocations cross nodes over LISTEN/NOTIFY.
//! (An unreachable PostgreSQL refused at start: continuum-backends' `tests/open.rs` and the
//! binary's `tests/serve.rs`.)

mod common;

use continuum_backends::StoreConfig;

fn base_url() -> String {
    std::env::var("CONTINUUM_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A database of its own, dropped at the end.
struct TestDatabase {
    name: String,
}

async fn admin() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&base_url(), tokio_postgres::NoTls)
        .await
        .expect("connect to the test PostgreSQL");
    tokio::spawn(connection);
    client
}

impl TestDatabase {
    async fn create() -> Self {
        let mut bytes = [0u8; 6];
        getrandom::fill(&mut bytes).unwrap();
        let name =
            format!("continuum_nodes_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>());
        admin().await.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create database");
        Self { name }
    }

    fn url(&self) -> String {
        let base = base_url();
        let (server, _) = base.rsplit_once('/').expect("a database in the URL");
        format!("{server}/{}", self.name)
    }

    async fn drop_now(self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = admin().await.batch_execute(&sql).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgres_share_sessions_and_revocations() {
    let database = TestDatabase::create().await;
    common::nodes::two_nodes_share_sessions(StoreConfig::Postgres(database.url())).await;
    database.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgres_fan_out_document_updates_and_revocations() {
    let database = TestDatabase::create().await;
    common::nodes::two_nodes_fan_out_live(StoreConfig::Postgres(database.url())).await;
    database.drop_now().await;
}
