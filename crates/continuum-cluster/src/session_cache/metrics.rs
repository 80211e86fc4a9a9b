//! [`SessionCacheMetrics`]: what an origin node's session cache counts, for `/metrics`.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The session cache's counters; registered by whoever serves `/metrics`.
#[derive(Debug, Default)]
pub struct SessionCacheMetrics {
    /// Reads answered from the cache.
    pub hits: Counter,
    /// Reads that went to the store.
    pub misses: Counter,
    /// Entries held, as of the last read that went to the store.
    pub entries: Gauge,
    /// Notices from other nodes that dropped or ended an entry (writes, revocations, sign-outs).
    pub invalidations: Counter,
    /// Times the whole cache was dropped because notices may have been missed (a gap).
    pub resets: Counter,
    /// Writes whose notice the bus did not take (the other nodes' entries then age out).
    pub unannounced: Counter,
}

impl SessionCacheMetrics {
    /// Registers every counter under `session_cache_` in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("session_cache");
        registry.register("hits", "Session reads answered from this node's cache", self.hits.clone());
        registry.register("misses", "Session reads that went to the store", self.misses.clone());
        registry.register("entries", "Sessions held in this node's cache", self.entries.clone());
        registry.register(
            "invalidations",
            "Cached sessions dropped or ended by another node's notice",
            self.invalidations.clone(),
        );
        registry.register(
            "resets",
            "Times the cache was emptied because notices may have been missed",
            self.resets.clone(),
        );
        registry.register(
            "unannounced",
            "Writes whose notice to the other nodes the bus did not take",
            self.unannounced.clone(),
        );
    }
}
