//! The connection pool: deadpool-postgres over tokio-postgres, with every statement the store
//! runs prepared when a connection opens, so no operation ever spends a round trip preparing.
//!
//! Connections are recycled with [`RecyclingMethod::Fast`]: taking one from the pool checks only
//! whether tokio-postgres saw it close, and sends nothing to the server. A connection that broke
//! unnoticed fails its next statement with [`PostgresStoreError::ConnectionLost`] and is then
//! dropped by the pool (it sees it closed).

use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use futures_util::future::try_join_all;
use tokio_postgres::NoTls;

use crate::config::PostgresConfig;
use crate::error::PostgresStoreError;
use crate::{bus, documents, sessions};

/// Every statement the store runs, prepared on each new connection.
fn statements() -> impl Iterator<Item = &'static str> {
    sessions::STATEMENTS.iter().chain(documents::STATEMENTS).chain(bus::STATEMENTS).copied()
}

/// The pool of `config`. Opens no connection: the first operation does.
pub(crate) fn build(config: &PostgresConfig) -> Result<Pool, PostgresStoreError> {
    let manager = Manager::from_config(
        config.connection_settings(),
        NoTls,
        ManagerConfig { recycling_method: RecyclingMethod::Fast },
    );
    // Prepared concurrently: tokio-postgres pipelines them over the connection.
    let prepare_all = Hook::async_fn(|client, _| {
        Box::pin(async move {
            try_join_all(statements().map(|sql| client.prepare_cached(sql)))
                .await
                .map_err(HookError::Backend)?;
            Ok(())
        })
    });
    Pool::builder(manager)
        .max_size(config.max_connections)
        .runtime(Runtime::Tokio1)
        .create_timeout(Some(config.connect_timeout))
        .wait_timeout(Some(config.wait_timeout))
        .post_create(prepare_all)
        .build()
        .map_err(|_| PostgresStoreError::InvalidConfig("the pool needs a runtime for its timeouts"))
}

/// A connection from `pool`, or why there is none.
pub(crate) async fn connection(pool: &Pool) -> Result<Object, PostgresStoreError> {
    pool.get().await.map_err(PostgresStoreError::Pool)
}

/// Runs `sql` (one of [`statements`], prepared when the connection opened) with `params`,
/// returning its rows.
pub(crate) async fn query(
    pool: &Pool,
    operation: &'static str,
    sql: &'static str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<tokio_postgres::Row>, PostgresStoreError> {
    let client = connection(pool).await?;
    let statement =
        client.prepare_cached(sql).await.map_err(|e| PostgresStoreError::from_query(operation, e))?;
    client.query(&statement, params).await.map_err(|e| PostgresStoreError::from_query(operation, e))
}

/// Runs `sql` like [`query`] and returns how many rows it changed.
pub(crate) async fn execute(
    pool: &Pool,
    operation: &'static str,
    sql: &'static str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<u64, PostgresStoreError> {
    let client = connection(pool).await?;
    let statement =
        client.prepare_cached(sql).await.map_err(|e| PostgresStoreError::from_query(operation, e))?;
    client.execute(&statement, params).await.map_err(|e| PostgresStoreError::from_query(operation, e))
}

/// Runs `sql` like [`query`] and returns its one row, or `None`.
pub(crate) async fn query_opt(
    pool: &Pool,
    operation: &'static str,
    sql: &'static str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Option<tokio_postgres::Row>, PostgresStoreError> {
    let mut rows = query(pool, operation, sql, params).await?;
    if rows.len() > 1 {
        return Err(PostgresStoreError::UnexpectedAnswer(operation));
    }
    Ok(rows.pop())
}

/// Runs `sql` like [`query`] and returns its one row.
pub(crate) async fn query_one(
    pool: &Pool,
    operation: &'static str,
    sql: &'static str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<tokio_postgres::Row, PostgresStoreError> {
    query_opt(pool, operation, sql, params).await?.ok_or(PostgresStoreError::UnexpectedAnswer(operation))
}
