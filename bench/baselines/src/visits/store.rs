//! [`StoreChoice`]: where the tower-sessions visits app keeps its sessions, from `--store`.

use std::fmt;
use std::str::FromStr;

/// The tower-sessions store behind the visits app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreChoice {
    /// `memory`: tower-sessions' `MemoryStore`, a `HashMap` behind one async mutex.
    Memory,
    /// `redis://…`: tower-sessions-redis-store on a fred pool (see
    /// [`crate::tower_sessions_app::connect`]).
    Redis(String),
}

/// A `--store` value that is neither `memory` nor a Redis URL.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is neither `memory` nor a redis:// URL (e.g. redis://127.0.0.1:6379/11)")]
pub struct UnknownStore(String);

impl FromStr for StoreChoice {
    type Err = UnknownStore;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "memory" => Ok(Self::Memory),
            url if url.starts_with("redis://") || url.starts_with("rediss://") => {
                Ok(Self::Redis(url.to_owned()))
            }
            other => Err(UnknownStore(other.to_owned())),
        }
    }
}

impl fmt::Display for StoreChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Memory => f.write_str("memory"),
            Self::Redis(url) => f.write_str(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_memory_and_redis_urls_and_refuses_the_rest() {
        assert_eq!("memory".parse::<StoreChoice>().unwrap(), StoreChoice::Memory);
        let url = "redis://127.0.0.1:6379/11";
        assert_eq!(url.parse::<StoreChoice>().unwrap(), StoreChoice::Redis(url.to_owned()));
        for bad in ["", "Memory", "postgres://localhost/x", "127.0.0.1:6379"] {
            let error = bad.parse::<StoreChoice>().unwrap_err().to_string();
            assert!(error.contains("neither `memory` nor a redis:// URL"), "{bad}: {error}");
        }
    }
}
