//! [`PostgresStore`]: connecting, migrating, and the pool every operation draws from.

use deadpool_postgres::Pool;
use tokio_postgres::NoTls;

use crate::config::PostgresConfig;
use crate::error::PostgresStoreError;
use crate::{migrations, pool};

/// Sessions and continuity documents in PostgreSQL; implements both
/// [`continuum_store::SessionStore`] and [`continuum_store::DocStore`]. Cheap to clone; clones
/// share the pool. Several stores — in one process or on several nodes — may use one schema at
/// once: every operation is atomic in PostgreSQL.
///
/// Durability: see the crate documentation. In short, an operation that returns `Ok` was
/// committed by PostgreSQL before it returned.
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: Pool,
    schema: Option<String>,
}

impl PostgresStore {
    /// Connects, brings the schema up to date (see [`crate::migrations`]) and opens the pool.
    ///
    /// Fails with [`PostgresStoreError::Connect`] (wrapped in
    /// [`continuum_store::StoreError::Backend`]) when PostgreSQL cannot be reached within
    /// [`PostgresConfig::connect_timeout`], so a server refuses to start on a store it cannot use.
    pub async fn connect(config: PostgresConfig) -> Result<Self, PostgresStoreError> {
        config.validate()?;
        // Migrations run on a connection of their own: the pool's connections prepare every
        // statement when they open, which needs the tables to exist.
        let (mut client, connection) =
            config.connection_settings().connect(NoTls).await.map_err(PostgresStoreError::Connect)?;
        let driver = tokio::spawn(connection);
        let migrated = migrations::migrate(&mut client, config.schema.as_deref()).await;
        drop(client);
        // The connection ends once the client is gone; its own error adds nothing here.
        let _ = driver.await;
        migrated?;
        let store = Self { pool: pool::build(&config)?, schema: config.schema };
        // Open one connection now, so a broken pool configuration fails at start, not later.
        drop(pool::connection(&store.pool).await?);
        Ok(store)
    }

    /// The schema the tables are in, `None` for the connection's default `search_path`.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Checks that PostgreSQL answers (one `SELECT 1`), for readiness probes.
    pub async fn ping(&self) -> Result<(), PostgresStoreError> {
        let client = pool::connection(&self.pool).await?;
        client.simple_query("SELECT 1").await.map_err(|e| PostgresStoreError::from_query("ping", e))?;
        Ok(())
    }

    /// How many connections the pool holds and how many of them are idle.
    pub fn pool_status(&self) -> deadpool_postgres::Status {
        self.pool.status()
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }
}
