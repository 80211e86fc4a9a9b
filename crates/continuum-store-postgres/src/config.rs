//! [`PostgresConfig`]: where the store connects, which schema it lives in, and how large and
//! patient its connection pool is.

use std::str::FromStr;
use std::time::Duration;

use crate::error::PostgresStoreError;

/// How a [`crate::PostgresStore`] reaches PostgreSQL.
///
/// `Debug` shows the connection settings with the password redacted.
#[derive(Clone, Debug)]
pub struct PostgresConfig {
    /// The connection settings parsed from the URL.
    pub(crate) pg: tokio_postgres::Config,
    /// The schema holding the tables; `None` for the connection's default `search_path`.
    pub schema: Option<String>,
    /// The most connections the pool opens. Default 16.
    pub max_connections: usize,
    /// How long opening one connection may take (TCP, startup, authentication, preparing the
    /// statements) before the operation waiting for it fails. Default 5 s.
    pub connect_timeout: Duration,
    /// How long an operation waits for a free connection when all `max_connections` are busy
    /// before it fails. Default 5 s.
    pub wait_timeout: Duration,
}

impl PostgresConfig {
    /// The default [`PostgresConfig::max_connections`].
    pub const DEFAULT_MAX_CONNECTIONS: usize = 16;
    /// The default [`PostgresConfig::connect_timeout`] and [`PostgresConfig::wait_timeout`].
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

    /// Parses a connection URL (`postgres://user:password@host:port/database?…`) or a libpq
    /// `key=value` string; defaults for everything else.
    pub fn parse(url: &str) -> Result<Self, PostgresStoreError> {
        tokio_postgres::Config::from_str(url)
            .map(Self::from_pg_config)
            .map_err(PostgresStoreError::InvalidUrl)
    }

    /// Settings already built as a [`tokio_postgres::Config`]; defaults for everything else.
    pub fn from_pg_config(pg: tokio_postgres::Config) -> Self {
        Self {
            pg,
            schema: None,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            connect_timeout: Self::DEFAULT_TIMEOUT,
            wait_timeout: Self::DEFAULT_TIMEOUT,
        }
    }

    /// The configuration with the tables in `schema` (created at start if missing).
    pub fn with_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The configuration with at most `max` pooled connections.
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = max;
        self
    }

    /// Refuses settings the store cannot work with.
    pub(crate) fn validate(&self) -> Result<(), PostgresStoreError> {
        if self.max_connections == 0 {
            return Err(PostgresStoreError::InvalidConfig("max_connections must be at least 1"));
        }
        if let Some(schema) = &self.schema {
            check_schema_name(schema)?;
        }
        Ok(())
    }

    /// The connection settings every connection uses: the URL's, the connect timeout, and the
    /// schema as the `search_path` (sent in the startup packet, so it costs no round trip and
    /// holds on every pooled connection, whoever opened it).
    pub(crate) fn connection_settings(&self) -> tokio_postgres::Config {
        let mut pg = self.pg.clone();
        pg.connect_timeout(self.connect_timeout);
        if pg.get_application_name().is_none() {
            pg.application_name("continuum");
        }
        if let Some(schema) = &self.schema {
            // The name was checked to need no quoting or escaping.
            let search_path = format!("-c search_path={schema}");
            let options = match pg.get_options() {
                Some(options) if !options.is_empty() => format!("{options} {search_path}"),
                _ => search_path,
            };
            pg.options(options);
        }
        pg
    }
}

/// Schema names are restricted to what PostgreSQL takes unquoted and unchanged (lower-case ASCII
/// letters, digits and `_`, not starting with a digit, at most 63 bytes, not `pg_…`), so the name
/// can go into `CREATE SCHEMA` and the startup options without quoting or escaping.
pub(crate) fn check_schema_name(schema: &str) -> Result<(), PostgresStoreError> {
    let valid_char = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_';
    let valid = !schema.is_empty()
        && schema.len() <= 63
        && !schema.as_bytes()[0].is_ascii_digit()
        && schema.bytes().all(valid_char)
        && !schema.starts_with("pg_");
    if valid {
        Ok(())
    } else {
        Err(PostgresStoreError::InvalidConfig(
            "a schema name is 1 to 63 characters of a-z, 0-9 and _, not starting with a digit or pg_",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_need_no_quoting() {
        for good in ["continuum", "test_0a1b", "_x", "a1"] {
            assert!(check_schema_name(good).is_ok(), "{good}");
        }
        let too_long = "a".repeat(64);
        for bad in ["", "1a", "Continuum", "a-b", "a b", "a;drop", "pg_catalog", "é", too_long.as_str()] {
            assert!(check_schema_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_schema_becomes_the_search_path_after_the_urls_options() {
        let config = PostgresConfig::parse("postgres://u@localhost/db?options=-c%20statement_timeout%3D5s")
            .expect("url")
            .with_schema("tenant_a");
        let settings = config.connection_settings();
        assert_eq!(settings.get_options(), Some("-c statement_timeout=5s -c search_path=tenant_a"));
        assert_eq!(settings.get_connect_timeout(), Some(&PostgresConfig::DEFAULT_TIMEOUT));
        let plain = PostgresConfig::parse("postgres://u@localhost/db").expect("url").connection_settings();
        assert_eq!(plain.get_options(), None, "no schema, no search_path override");
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(matches!(
            PostgresConfig::parse("postgres://u@h:notaport/db"),
            Err(PostgresStoreError::InvalidUrl(_))
        ));
        let zero = PostgresConfig::parse("postgres://u@h/db").expect("url").with_max_connections(0);
        assert!(matches!(zero.validate(), Err(PostgresStoreError::InvalidConfig(_))));
        let quoted = PostgresConfig::parse("postgres://u@h/db").expect("url").with_schema("Tenant");
        assert!(matches!(quoted.validate(), Err(PostgresStoreError::InvalidConfig(_))));
    }

    #[test]
    fn debug_hides_the_password() {
        let config = PostgresConfig::parse("postgres://u:hunter2@localhost/db").expect("url");
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
