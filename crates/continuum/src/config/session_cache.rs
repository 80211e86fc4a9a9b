//! [`session_cache`]: the `[session_cache]` settings of a layer to the policy of the cache an
//! origin node keeps in front of a shared store, or `None` when it is off.

use std::time::Duration;

use continuum_backends::StoreConfig;
use continuum_store::session_cache::CachePolicy;

use super::error::ConfigError;
use super::layer::ConfigLayer;

/// `session_cache.ttl_secs` unless set: how stale a cached session's attributes may be when a
/// notice is lost without the bus saying so.
pub const DEFAULT_TTL_SECS: u64 = 30;
/// `session_cache.cap_secs` unless set: how long entries answer after the bus was last heard.
pub const DEFAULT_CAP_SECS: u64 = 5;
/// The entries a node's cache holds at most.
pub const CAPACITY: usize = 100_000;
/// The shortest cap: the nodes' heartbeats come every second, so a cap of one would take a
/// late heartbeat for a broken bus.
pub const MIN_CAP_SECS: u64 = 2;

/// The cache's policy when `session_cache.enabled`, which needs a shared store (a single node
/// has nothing to cache: its own store answers from memory already).
pub fn session_cache(layer: &ConfigLayer, store: &StoreConfig) -> Result<Option<CachePolicy>, ConfigError> {
    if !layer.session_cache_enabled.unwrap_or(false) {
        return Ok(None);
    }
    if !store.is_shared() {
        return Err(ConfigError::Invalid {
            key: "session_cache.enabled",
            reason: format!("needs a shared store (redis://…, redis+cluster://…, postgres://…), not {store}"),
        });
    }
    let ttl = layer.session_cache_ttl_secs.unwrap_or(DEFAULT_TTL_SECS);
    if ttl == 0 {
        return Err(ConfigError::Invalid {
            key: "session_cache.ttl_secs",
            reason: "must be at least 1".into(),
        });
    }
    let cap = layer.session_cache_cap_secs.unwrap_or(DEFAULT_CAP_SECS);
    if cap < MIN_CAP_SECS {
        return Err(ConfigError::Invalid {
            key: "session_cache.cap_secs",
            reason: format!("must be at least {MIN_CAP_SECS}: every node's heartbeat comes once a second"),
        });
    }
    Ok(Some(CachePolicy { ttl: Duration::from_secs(ttl), cap: Duration::from_secs(cap), capacity: CAPACITY }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(ttl: Option<u64>, cap: Option<u64>) -> ConfigLayer {
        ConfigLayer {
            session_cache_enabled: Some(true),
            session_cache_ttl_secs: ttl,
            session_cache_cap_secs: cap,
            ..ConfigLayer::default()
        }
    }

    fn redis() -> StoreConfig {
        "redis://127.0.0.1:6379".parse().unwrap()
    }

    #[test]
    fn off_unless_enabled_and_defaults_when_on() {
        assert_eq!(session_cache(&ConfigLayer::default(), &redis()).unwrap(), None);
        let policy = session_cache(&on(None, None), &redis()).unwrap().expect("on");
        assert_eq!((policy.ttl.as_secs(), policy.cap.as_secs()), (DEFAULT_TTL_SECS, DEFAULT_CAP_SECS));
        let policy =
            session_cache(&on(Some(60), Some(3)), &"postgres://h/db".parse().unwrap()).unwrap().unwrap();
        assert_eq!((policy.ttl.as_secs(), policy.cap.as_secs()), (60, 3));
    }

    #[test]
    fn a_store_without_a_bus_or_a_cap_shorter_than_two_heartbeats_is_refused_by_name() {
        for store in [StoreConfig::Redb, StoreConfig::Memory, StoreConfig::Replicated] {
            let error = session_cache(&on(None, None), &store).unwrap_err().to_string();
            assert!(error.contains("session_cache.enabled") && error.contains("shared store"), "{error}");
        }
        let error = session_cache(&on(None, Some(1)), &redis()).unwrap_err().to_string();
        assert!(error.contains("session_cache.cap_secs"), "{error}");
        let error = session_cache(&on(Some(0), None), &redis()).unwrap_err().to_string();
        assert!(error.contains("session_cache.ttl_secs"), "{error}");
    }
}
