//! [`PostgresStoreError`]: what went wrong inside the PostgreSQL store, carried as the cause of
//! [`continuum_store::StoreError::Backend`]; connection failures are told apart from the rest.

use continuum_store::StoreError;

/// The causes a [`crate::PostgresStore`] reports. Callers see them as the `#[source]` of
/// [`StoreError::Backend`]; each keeps the error underneath it.
/// [`PostgresStoreError::is_connection`] (or [`is_connection_failure`] on a [`StoreError`]) says
/// whether PostgreSQL could not be reached, as opposed to answering with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresStoreError {
    /// The connection URL does not parse.
    #[error("invalid PostgreSQL connection URL")]
    InvalidUrl(#[source] tokio_postgres::Error),
    /// The configuration cannot work.
    #[error("invalid PostgreSQL store configuration: {0}")]
    InvalidConfig(&'static str),
    /// The first connection at start failed: nothing listens there, the name does not resolve,
    /// authentication was refused, the database does not exist, or the connect timeout passed.
    #[error("cannot connect to PostgreSQL")]
    Connect(#[source] tokio_postgres::Error),
    /// No pooled connection could be had: opening one failed or timed out (PostgreSQL down or
    /// unreachable), or every connection stayed busy past the wait timeout.
    #[error("no connection to PostgreSQL")]
    Pool(#[source] deadpool_postgres::PoolError),
    /// The connection broke while `operation` was in flight. Whether a write in flight was
    /// committed is unknown; it was not acknowledged.
    #[error("the connection to PostgreSQL was lost during {operation}")]
    ConnectionLost {
        /// The store operation.
        operation: &'static str,
        /// What tokio-postgres reported.
        #[source]
        source: tokio_postgres::Error,
    },
    /// PostgreSQL answered `operation` with an error (the statement failed and was rolled back).
    #[error("PostgreSQL failed {operation}")]
    Query {
        /// The store operation.
        operation: &'static str,
        /// What PostgreSQL reported.
        #[source]
        source: tokio_postgres::Error,
    },
    /// Applying the migrations at start failed; the transaction was rolled back and nothing of
    /// it stays.
    #[error("cannot apply the schema migrations ({step})")]
    Migrate {
        /// The migration or bookkeeping step that failed.
        step: String,
        /// What PostgreSQL reported.
        #[source]
        source: tokio_postgres::Error,
    },
    /// The database records a migration this build does not know: a newer version of Continuum
    /// migrated it. This build refuses to run on a schema it does not understand.
    #[error("the database has migration {version} ({name}), which this build does not know")]
    UnknownMigration {
        /// Its number.
        version: i32,
        /// Its recorded name.
        name: String,
    },
    /// The database records another migration under a number this build uses.
    #[error("migration {version} is recorded as {found:?}, this build calls it {expected:?}")]
    MigrationMismatch {
        /// Its number.
        version: i32,
        /// This build's name for it.
        expected: &'static str,
        /// The name recorded in the database.
        found: String,
    },
    /// A session record did not encode, or a stored one did not decode as the session its key
    /// names.
    #[error(transparent)]
    Record(#[from] continuum_store::RecordCodecError),
    /// A stored row does not hold what the schema promises (a negative counter, an invalid
    /// document name).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// A statement answered with another shape than it was written for; a bug.
    #[error("unexpected answer to {0}")]
    UnexpectedAnswer(&'static str),
}

impl PostgresStoreError {
    /// Whether PostgreSQL could not be reached or the connection broke, as opposed to PostgreSQL
    /// refusing a statement or the store finding bad data. Such a failure may pass by itself.
    pub fn is_connection(&self) -> bool {
        matches!(self, Self::Connect(_) | Self::Pool(_) | Self::ConnectionLost { .. })
    }

    /// Sorts an error of `operation` into [`PostgresStoreError::ConnectionLost`] or
    /// [`PostgresStoreError::Query`].
    pub(crate) fn from_query(operation: &'static str, source: tokio_postgres::Error) -> Self {
        if lost_connection(&source) {
            Self::ConnectionLost { operation, source }
        } else {
            Self::Query { operation, source }
        }
    }
}

/// Whether `error` means the connection is gone: closed, or the server shutting down or refusing
/// connections (SQLSTATE class 08, 57P01 to 57P03).
fn lost_connection(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    error.code().is_some_and(|code| {
        let code = code.code();
        code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03")
    })
}

impl From<PostgresStoreError> for StoreError {
    fn from(error: PostgresStoreError) -> Self {
        match error {
            PostgresStoreError::Pool(deadpool_postgres::PoolError::Closed) => StoreError::Closed,
            other => StoreError::backend(other),
        }
    }
}

/// Whether a [`StoreError`] from a [`crate::PostgresStore`] means PostgreSQL could not be reached
/// (see [`PostgresStoreError::is_connection`]); `false` for every other error.
pub fn is_connection_failure(error: &StoreError) -> bool {
    match error {
        StoreError::Backend(source) => {
            source.downcast_ref::<PostgresStoreError>().is_some_and(PostgresStoreError::is_connection)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pool_is_a_closed_store_and_pool_failures_are_connection_failures() {
        let closed: StoreError = PostgresStoreError::Pool(deadpool_postgres::PoolError::Closed).into();
        assert!(matches!(closed, StoreError::Closed));
        let timeout = PostgresStoreError::Pool(deadpool_postgres::PoolError::Timeout(
            deadpool_postgres::TimeoutType::Create,
        ));
        assert!(timeout.is_connection());
        assert!(is_connection_failure(&timeout.into()));
        let corrupt: StoreError = PostgresStoreError::Corrupt("x".into()).into();
        assert!(!is_connection_failure(&corrupt));
        assert!(!is_connection_failure(&StoreError::NotFound));
    }
}
