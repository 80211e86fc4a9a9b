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
        }
    }
}
