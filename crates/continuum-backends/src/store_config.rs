//! [`StoreConfig`]: which store keeps sessions and documents, named by one string —
//! `redb`, `redb:<dir>`, `memory`, `redis://…`, `redis+cluster://host:port,host:port`,
//! `postgres://…` — as the binary's `--store` flag, `CONTINUUM_STORE` and the TOML key `store` take it.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Where sessions and documents are kept.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// The embedded default: `continuum.redb` in the data directory.
    Redb,
    /// The embedded store in another directory: `redb:<dir>`.
    RedbAt(PathBuf),
    /// In process memory; nothing survives a restart. For tests and demos.
    Memory,
    /// A standalone Redis server: `redis://…` or `rediss://…`.
    Redis(String),
    /// A Redis Cluster, given by some of its nodes: `redis+cluster://host:port,host:port`
    /// (the Redis store splits the nodes).
    RedisCluster(String),
    /// PostgreSQL: `postgres://…` or `postgresql://…`.
    Postgres(String),
    /// `replicated`: the nodes hold the sessions and documents themselves (each in its own
    /// embedded store in the data directory) and copy them to each other; the cluster is
    /// configured apart (node id, peer address, peers, replicas).
    Replicated,
}

impl StoreConfig {
    /// Whether several nodes share this store over the network (Redis, Redis Cluster,
    /// PostgreSQL), with a bus between them.
    pub fn is_shared(&self) -> bool {
        matches!(self, Self::Redis(_) | Self::RedisCluster(_) | Self::Postgres(_))
    }
}

/// Why a store string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown store `{0}`; expected redb, redb:<dir>, memory, replicated, redis://…, redis+cluster://host:port,…, or postgres://…"
)]
pub struct StoreUrlError(String);

impl FromStr for StoreConfig {
    type Err = StoreUrlError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refuse = || StoreUrlError(redact(text));
        match text {
            "redb" => return Ok(Self::Redb),
            "memory" => return Ok(Self::Memory),
            "replicated" => return Ok(Self::Replicated),
            _ => {}
        }
        if let Some(dir) = text.strip_prefix("redb:") {
            return if dir.is_empty() { Err(refuse()) } else { Ok(Self::RedbAt(PathBuf::from(dir))) };
        }
        let has_host = |rest: &str| !rest.trim_matches([',', ' ', '/']).is_empty();
        if text.strip_prefix("redis+cluster://").is_some_and(has_host) {
            return Ok(Self::RedisCluster(text.to_owned()));
        }
        for scheme in ["redis://", "rediss://"] {
            if text.strip_prefix(scheme).is_some_and(has_host) {
                return Ok(Self::Redis(text.to_owned()));
            }
        }
        for scheme in ["postgres://", "postgresql://"] {
            if text.strip_prefix(scheme).is_some_and(has_host) {
                return Ok(Self::Postgres(text.to_owned()));
            }
        }
        Err(refuse())
    }
}

/// The URL with any password replaced by `***`, for logs and errors.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split_once(':').map_or(credentials, |(user, _)| user);
            let hidden = if credentials.contains(':') { format!("{user}:***") } else { user.to_owned() };
            format!("{scheme}://{hidden}@{host}{path}")
        }
        None => url.to_owned(),
    }
}

impl fmt::Display for StoreConfig {
    /// The store as it would be written, passwords hidden.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Redb => f.write_str("redb"),
            Self::RedbAt(dir) => write!(f, "redb:{}", dir.display()),
            Self::Memory => f.write_str("memory"),
            Self::Replicated => f.write_str("replicated"),
            Self::Redis(url) | Self::RedisCluster(url) | Self::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreConfig({self})")
    }
}

impl<'de> serde::Deserialize<'de> for StoreConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!("redb".parse(), Ok(StoreConfig::Redb));
        assert_eq!("memory".parse(), Ok(StoreConfig::Memory));
        assert_eq!("redb:/var/lib/c".parse(), Ok(StoreConfig::RedbAt("/var/lib/c".into())));
        assert_eq!(
            "redis://127.0.0.1:6379/0".parse(),
            Ok(StoreConfig::Redis("redis://127.0.0.1:6379/0".into()))
        );
        assert_eq!(
            "redis+cluster://127.0.0.1:7000,127.0.0.1:7001".parse(),
            Ok(StoreConfig::RedisCluster("redis+cluster://127.0.0.1:7000,127.0.0.1:7001".into()))
        );
        assert_eq!("postgresql://u@h/db".parse(), Ok(StoreConfig::Postgres("postgresql://u@h/db".into())));
        for bad in ["", "Redb", "redb:", "redis://", "redis+cluster://", "mysql://h/db", "sqlite:x"] {
            assert!(bad.parse::<StoreConfig>().is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_never_show() {
        let store: StoreConfig = "postgres://app:s3cret@db:5432/continuum".parse().unwrap();
        assert_eq!(store.to_string(), "postgres://app:***@db:5432/continuum");
        assert!(!format!("{store:?}").contains("s3cret"));
        let error = "mysql://app:s3cret@db".parse::<StoreConfig>().unwrap_err();
        assert!(!error.to_string().contains("s3cret"));
        assert_eq!(redact("redis://:pw@h:6379"), "redis://:***@h:6379");
        assert_eq!(redact("redis://h:6379"), "redis://h:6379");
        let cluster: StoreConfig = "redis+cluster://u:pw@h1:7000,h2:7001".parse().unwrap();
        assert_eq!(cluster.to_string(), "redis+cluster://u:***@h1:7000,h2:7001");
    }
}
