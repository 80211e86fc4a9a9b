//! [`ServerConfig`]: everything `run` needs, already parsed and validated by the caller.

use std::path::PathBuf;
use std::time::Duration;

use continuum_core::{Limits, SessionPolicy};
use continuum_sync::SyncConfig;

use crate::docs_state::SyncLimits;
use crate::origin::Origin;

/// Anonymous guest sessions from `POST /v1/guest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestConfig {
    /// Whether the endpoint answers at all (off by default).
    pub enabled: bool,
    /// Guest sessions one client address may create per minute.
    pub per_minute: u32,
    /// How many of them it may create at once before the rate applies.
    pub burst: u32,
}

impl Default for GuestConfig {
    fn default() -> Self {
        Self { enabled: false, per_minute: 10, burst: 5 }
    }
}

/// Limits per session and per principal on the client plane, so that no single client can
/// exhaust a table every user shares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientLimits {
    /// Outstanding handoff codes one session may hold; past it `POST /v1/me/handoff` is 429
    /// until one is used or expires.
    pub handoff_codes_per_session: usize,
    /// Outstanding sync tickets one session may hold; past it `POST /v1/sync/ticket` is 429.
    pub tickets_per_session: usize,
    /// Successful handoff redemptions per principal per hour; past it redeem is 429.
    pub redemptions_per_principal_per_hour: u32,
    /// Live stored sessions one principal may have: a session created past it (backend create,
    /// handoff redeem) signs out that principal's oldest ones. Sealed sessions hold no state
    /// here and are not counted.
    pub sessions_per_principal: usize,
}

impl Default for ClientLimits {
    fn default() -> Self {
        Self {
            handoff_codes_per_session: 5,
            tickets_per_session: 16,
            redemptions_per_principal_per_hour: 20,
            sessions_per_principal: 100,
        }
    }
}

/// How long a connection may stay silent, and how many may be open at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From the first byte of a request (or from the connection's start) to the end of its
    /// header; a connection that takes longer is closed.
    pub header_read_timeout: Duration,
    /// How long a keep-alive connection may wait between one answer and the next request.
    /// Long-lived answers (sync sockets, event streams) are never idle.
    pub idle_timeout: Duration,
    /// Connections served at once (sync sockets included); past it the server stops accepting
    /// until one closes, and new ones wait in the listen backlog.
    pub max_connections: usize,
    /// Peers whose `X-Forwarded-For` is believed (the gateways in front of this node): a request
    /// from one of them counts as from the client it names, for rate limits and logs (see
    /// [`crate::conn::forwarded`]). Empty: every request is from its TCP peer.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            trusted_proxies: Vec::new(),
        }
    }
}

/// The configuration of one server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Directory for the generated API key and sealing key files (and, for the embedded store,
    /// the store file its opener puts there).
    pub data_dir: PathBuf,
    /// Plain-HTTP development mode: the cookie is `continuum` without `Secure` instead of
    /// `__Host-continuum`.
    pub dev: bool,
    /// Origins besides the server's own that may use the session cookie on unsafe requests and
    /// sync sockets (see [`crate::origin`]): the server's own is `https://<Host>`, or
    /// `http://<Host>` with `dev`.
    pub allowed_origins: Vec<Origin>,
    /// API keys for the backend plane. When empty, keys are read from (or first created in)
    /// `<data_dir>/api-keys`.
    pub api_keys: Vec<String>,
    /// Sealing keys (`sk_…`), the first sealing. When empty, the ring is read from (or first
    /// created in) `<data_dir>/sealing-keys`. Nodes that validate each other's sealed tokens
    /// must share the ring.
    pub sealing_keys: Vec<String>,
    /// How long a node trusts a cached principal epoch before reading it again: the longest a
    /// "sign out everywhere" on another node takes to reach this one.
    pub epoch_ttl: Duration,
    /// Guest sessions.
    pub guest: GuestConfig,
    /// Session timeouts and windows.
    pub policy: SessionPolicy,
    /// Input limits.
    pub limits: Limits,
    /// How often the expiry sweeper runs.
    pub sweep_interval: Duration,
    /// How many expired sessions one sweep deletes per store call.
    pub sweep_batch: usize,
    /// The sync engine: message and document sizes, compaction, queues.
    pub sync: SyncConfig,
    /// Sync sockets per session and documents per scope.
    pub sync_limits: SyncLimits,
    /// Codes, tickets, redemptions and sessions per session or principal.
    pub client_limits: ClientLimits,
    /// Connection timeouts and the connection cap.
    pub connections: ConnectionLimits,
    /// Milliseconds added to the system clock this server decides by (expiry, touches,
    /// creation times, documents' times), for clock-skew tests only: positive runs ahead,
    /// negative behind; 0 (the default, and the only value for production) is the system
    /// clock itself. `run` reads the clock as a [`continuum_core::SkewedClock`] when it is not 0.
    /// The store's own clock (a replicated store's) is skewed by its opener.
    pub clock_skew_ms: i64,
}

impl ServerConfig {
    /// Defaults for a server keeping its data in `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            dev: false,
            allowed_origins: Vec::new(),
            api_keys: Vec::new(),
            sealing_keys: Vec::new(),
            epoch_ttl: continuum_store::epochs::DEFAULT_EPOCH_TTL,
            guest: GuestConfig::default(),
            policy: SessionPolicy::default(),
            limits: Limits::default(),
            sweep_interval: Duration::from_secs(30),
            sweep_batch: 1000,
            sync: SyncConfig::default(),
            sync_limits: SyncLimits::default(),
            client_limits: ClientLimits::default(),
            connections: ConnectionLimits::default(),
            clock_skew_ms: 0,
        }
    }
}
