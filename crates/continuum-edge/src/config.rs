//! [`EdgeConfig`]: everything [`crate::run()`] needs, parsed by the caller.

use std::time::Duration;

use continuum_server::ServerConfig;

use continuum_store::session_cache::CachePolicy;

/// The default of [`CachePolicy::ttl`]: how stale a cached session's attributes may be.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(30);
/// The default of [`CachePolicy::cap`]: how long cached sessions keep answering after the
/// origin's event stream was last heard.
pub const DEFAULT_STREAM_CAP: Duration = Duration::from_secs(5);
/// The default of [`CachePolicy::capacity`].
pub const DEFAULT_CACHE_CAPACITY: usize = 100_000;

/// The configuration of one edge.
#[derive(Clone, Debug)]
pub struct EdgeConfig {
    /// The origin, `http://host:port`.
    pub origin: String,
    /// A backend-plane API key of the origin: how the edge authenticates to it.
    pub origin_api_key: String,
    /// The edge's id; `None`: read from (or first written to) `<data>/edge-id`.
    pub edge_id: Option<String>,
    /// The session cache's bounds.
    pub cache: CachePolicy,
    /// The server app the edge runs: its data directory, cookies (`dev`), limits.
    pub server: ServerConfig,
    /// Mount the demo app at `/`.
    pub demo: bool,
    /// How long a document without devices keeps its downstream from the origin.
    pub downstream_linger: Duration,
}

impl EdgeConfig {
    /// An edge of `origin` with `origin_api_key`, its data in `server.data_dir`, default bounds.
    pub fn new(origin: impl Into<String>, origin_api_key: impl Into<String>, server: ServerConfig) -> Self {
        Self {
            origin: origin.into(),
            origin_api_key: origin_api_key.into(),
            edge_id: None,
            cache: CachePolicy {
                ttl: DEFAULT_CACHE_TTL,
                cap: DEFAULT_STREAM_CAP,
                capacity: DEFAULT_CACHE_CAPACITY,
            },
            server,
            demo: false,
            downstream_linger: crate::downstreams::DEFAULT_LINGER,
        }
    }
}
