//! Helpers shared by the black-box tests: the test server's URL, a private schema per store
//! (dropped when the test ends, even when it fails), and a proxy that counts protocol messages.

#![allow(dead_code)]

pub mod proxy;

use std::str::FromStr;
use std::sync::Arc;

use continuum_core::{ManualClock, Timestamp};
use continuum_store::Sessions;
use continuum_store_postgres::{PostgresConfig, PostgresStore};

/// Where the tests' clocks start.
pub const START: Timestamp = Timestamp::from_millis(1_800_000_000_000);

/// The test server: `CONTINUUM_TEST_POSTGRES`, or the local server with trust authentication.
pub fn url() -> String {
    std::env::var("CONTINUUM_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A raw connection to the test server, for inspecting tables and holding locks.
pub async fn raw_client() -> tokio_postgres::Client {
    let (client, connection) =
        tokio_postgres::connect(&url(), tokio_postgres::NoTls).await.expect("connect to the test server");
    tokio::spawn(connection);
    client
}

/// A schema of its own, `test_<random>`, dropped with everything in it when this is dropped,
/// whether the test passed or panicked.
pub struct TestSchema {
    pub name: String,
}

impl TestSchema {
    pub fn new() -> Self {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).expect("random");
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Self { name: format!("test_{hex}") }
    }

    /// The store configuration for this schema; small pools, as several tests run at once.
    pub fn config(&self) -> PostgresConfig {
        PostgresConfig::parse(&url()).expect("test URL").with_schema(&self.name).with_max_connections(8)
    }

    /// A new store (its own pool) on this schema, migrating it on first use.
    pub async fn store(&self) -> PostgresStore {
        PostgresStore::connect(self.config()).await.expect("connect the store")
    }

    /// The settings of the test URL, pointing at `port` on 127.0.0.1 instead (for the proxy).
    pub fn config_via(&self, port: u16) -> PostgresConfig {
        let parsed = tokio_postgres::Config::from_str(&url()).expect("test URL");
        let mut pg = tokio_postgres::Config::new();
        pg.host("127.0.0.1").port(port);
        if let Some(user) = parsed.get_user() {
            pg.user(user);
        }
        if let Some(password) = parsed.get_password() {
            pg.password(password);
        }
        if let Some(dbname) = parsed.get_dbname() {
            pg.dbname(dbname);
        }
        PostgresConfig::from_pg_config(pg).with_schema(&self.name).with_max_connections(8)
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        // A runtime of its own on a thread of its own: Drop may run inside the test's runtime.
        let dropped = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async move {
                let (client, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls).await?;
                tokio::spawn(connection);
                client.batch_execute(&sql).await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) && !std::thread::panicking() {
            panic!("cannot drop the test schema {}: {dropped:?}", self.name);
        }
    }
}

/// The session service over `store` with `clock`.
pub fn sessions(store: &PostgresStore, clock: &ManualClock) -> Sessions {
    Sessions::new(Arc::new(store.clone()), Arc::new(clock.clone()))
}
