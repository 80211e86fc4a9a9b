//! The TOML configuration file: [`FileConfig`], its schema, and [`load`].
//!
//! ```toml
//! listen = "127.0.0.1:7878"      # address to bind
//! data = "./continuum-data"      # data directory, relative to this file's directory
//! store = "redb"                 # redb, redb:<dir>, memory, redis://…, redis+cluster://…, postgres://…
//! dev = false                    # plain-HTTP development mode
//! demo = false                   # serve the demo app at / (turns guest sessions on)
//! api_keys = ["ck_..."]          # backend-plane keys; none: the key file in the data directory
//! sealing_keys = ["sk_..."]      # sealed-session key ring, the first seals; none: <data>/sealing-keys
//! data_keys = ["dk_..."]         # encryption-at-rest key ring, the first encrypts; none: <data>/data-keys
//! allowed_origins = ["https://app.example"] # besides the server's own, may use the session cookie
//!
//! [session_cache]                # origin nodes over Redis or PostgreSQL: validate from memory
//! enabled = false                # changes through any node are pushed to every node's cache
//! ttl_secs = 30                  # the longest a cached session answers (attributes' staleness bound)
//! cap_secs = 5                   # ...and after the store's bus was last heard
//!
//! [storage]
//! encrypt = true                 # attributes, devices, documents encrypted at rest (shared stores: only with data_keys unless set)
//!
//! [guest]                        # anonymous sessions from POST /v1/guest
//! enabled = false
//! per_minute = 10                # per client address
//! burst = 5
//!
//! [sessions]
//! idle_timeout_secs = 1800       # default idle timeout
//! absolute_timeout_secs = 604800 # default absolute lifetime
//! max_idle_secs = 2592000        # the largest a request may ask for
//! max_absolute_secs = 34560000
//! touch_fraction = 0.05          # persist a validation's touch past this fraction of idle
//! rotation_grace_secs = 10       # the replaced secret stays valid this long
//!
//! [limits]
//! max_body_bytes = 65536
//! max_attributes_bytes = 16384
//! max_json_depth = 16
//! max_label_bytes = 128
//! max_user_agent_bytes = 512
//! max_handoff_codes_per_session = 5             # outstanding; past it 429
//! max_tickets_per_session = 16                  # outstanding sync tickets; past it 429
//! max_redemptions_per_principal_per_hour = 20   # successful handoff redemptions; past it 429
//! max_sessions_per_principal = 100              # live; a new one signs out the oldest
//! max_sync_sockets_per_session = 16             # open at once; past it 429
//!
//! [http]                         # connections
//! header_read_timeout_secs = 10  # to receive a request's header (or a first byte)
//! idle_timeout_secs = 60         # a keep-alive connection waiting for its next request
//! max_connections = 10000        # served at once, sync sockets included
//! trusted_proxies = ["127.0.0.1"] # gateways whose X-Forwarded-For names the client
//!
//! [sweeper]
//! interval_secs = 30
//! batch = 1000
//!
//! [cluster]                      # with store = "replicated": this node in its cluster
//! node_id = "a"                  # unique in the cluster
//! listen = "127.0.0.1:7001"      # gossip (UDP) and replication (TCP) from peers
//! peers = ["127.0.0.1:7002", "127.0.0.1:7003"] # other nodes' cluster listen addresses
//! replicas = 1                   # backups per session and document, or "all"
//! name = "continuum"             # nodes of another cluster are refused
//! ```
//!
//! Every key is optional. An unknown key or table is an error naming it, so a typo never passes
//! silently as a default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use continuum_cluster::replication::Replicas;
use serde::Deserialize;

use super::error::ConfigError;
use super::layer::{ConfigLayer, StoreKind};

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The address to bind.
    pub listen: Option<SocketAddr>,
    /// The data directory; relative paths are taken from the file's directory.
    pub data: Option<PathBuf>,
    /// Which store keeps sessions.
    pub store: Option<StoreKind>,
    /// Plain-HTTP development mode.
    pub dev: Option<bool>,
    /// Serve the demo app.
    pub demo: Option<bool>,
    /// Backend-plane API keys.
    pub api_keys: Option<Vec<String>>,
    /// The sealing key ring, the first key sealing.
    pub sealing_keys: Option<Vec<String>>,
    /// The data key ring of encryption at rest, the first key encrypting.
    pub data_keys: Option<Vec<String>>,
    /// Origins besides the server's own whose pages may use the session cookie.
    pub allowed_origins: Option<Vec<String>>,
    /// `[storage]`.
    #[serde(default)]
    pub storage: StorageTable,
    /// `[guest]`.
    #[serde(default)]
    pub guest: GuestTable,
    /// `[sessions]`.
    #[serde(default)]
    pub sessions: SessionsTable,
    /// `[limits]`.
    #[serde(default)]
    pub limits: LimitsTable,
    /// `[sweeper]`.
    #[serde(default)]
    pub sweeper: SweeperTable,
    /// `[http]`.
    #[serde(default)]
    pub http: HttpTable,
    /// `[cluster]`.
    #[serde(default)]
    pub cluster: ClusterTable,
    /// `[session_cache]`.
    #[serde(default)]
    pub session_cache: SessionCacheTable,
}

/// `[session_cache]`: a cache of sessions in front of a shared store.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionCacheTable {
    /// Whether validations are answered from this node's cache.
    pub enabled: Option<bool>,
    /// The longest a cached session answers, seconds.
    pub ttl_secs: Option<u64>,
    /// The longest a cached session answers after the store's bus was last heard, seconds.
    pub cap_secs: Option<u64>,
}

/// `[cluster]`: this node in a replicated cluster (`store = "replicated"`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterTable {
    /// This node's id, unique in the cluster.
    pub node_id: Option<String>,
    /// Where this node gossips and takes replication connections.
    pub listen: Option<SocketAddr>,
    /// Other nodes' cluster listen addresses.
    pub peers: Option<Vec<SocketAddr>>,
    /// Backups per key (a number) or `"all"`.
    #[serde(default, deserialize_with = "replicas")]
    pub replicas: Option<Replicas>,
    /// The cluster's name.
    pub name: Option<String>,
}

/// `replicas = 2` or `replicas = "all"`.
fn replicas<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Replicas>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Value {
        Count(usize),
        Word(String),
    }
    match Value::deserialize(deserializer)? {
        Value::Count(backups) => Ok(Some(Replicas::Backups(backups))),
        Value::Word(word) => word.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// `[guest]`: anonymous guest sessions.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestTable {
    /// Whether `POST /v1/guest` answers.
    pub enabled: Option<bool>,
    /// Guest sessions per client address per minute.
    pub per_minute: Option<u32>,
    /// Guest sessions a client address may create at once.
    pub burst: Option<u32>,
}

/// `[storage]`: what the store keeps, and how.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageTable {
    /// Encrypt sessions' attributes and devices and documents' content at rest.
    pub encrypt: Option<bool>,
}

/// `[sessions]`: timeouts and windows.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionsTable {
    /// Default idle timeout, seconds.
    pub idle_timeout_secs: Option<u64>,
    /// Default absolute lifetime, seconds.
    pub absolute_timeout_secs: Option<u64>,
    /// Largest idle timeout a request may ask for, seconds.
    pub max_idle_secs: Option<u64>,
    /// Largest absolute lifetime a request may ask for, seconds.
    pub max_absolute_secs: Option<u64>,
    /// Fraction of the idle timeout after which a validation's touch is persisted.
    pub touch_fraction: Option<f64>,
    /// How long a rotated-out secret stays valid, seconds.
    pub rotation_grace_secs: Option<u64>,
}

/// `[limits]`: sizes of client input.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsTable {
    /// Largest request body, bytes.
    pub max_body_bytes: Option<usize>,
    /// Largest attributes object as JSON, bytes.
    pub max_attributes_bytes: Option<usize>,
    /// Deepest JSON nesting.
    pub max_json_depth: Option<usize>,
    /// Longest device label, bytes.
    pub max_label_bytes: Option<usize>,
    /// Longest user agent, bytes.
    pub max_user_agent_bytes: Option<usize>,
    /// Outstanding handoff codes per session.
    pub max_handoff_codes_per_session: Option<usize>,
    /// Outstanding sync tickets per session.
    pub max_tickets_per_session: Option<usize>,
    /// Successful handoff redemptions per principal per hour.
    pub max_redemptions_per_principal_per_hour: Option<u32>,
    /// Live stored sessions per principal.
    pub max_sessions_per_principal: Option<usize>,
    /// Sync sockets open at once per session.
    pub max_sync_sockets_per_session: Option<usize>,
}

/// `[http]`: connection timeouts and the connection cap.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTable {
    /// Seconds to receive a request's header.
    pub header_read_timeout_secs: Option<u64>,
    /// Seconds a keep-alive connection may wait for its next request.
    pub idle_timeout_secs: Option<u64>,
    /// Connections served at once.
    pub max_connections: Option<usize>,
    /// Addresses whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Option<Vec<String>>,
}

/// `[sweeper]`: the expiry sweeper.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweeperTable {
    /// Seconds between sweeps.
    pub interval_secs: Option<u64>,
    /// Expired sessions deleted per store call.
    pub batch: Option<usize>,
}

impl FileConfig {
    /// Parses the text of a configuration file.
    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// The file's settings as a layer; a relative `data` is joined to `base`, the file's
    /// directory, so the file means the same wherever `serve` is started from.
    pub fn into_layer(self, base: &Path) -> ConfigLayer {
        ConfigLayer {
            listen: self.listen,
            data: self.data.map(|data| if data.is_relative() { base.join(data) } else { data }),
            store: self.store,
            dev: self.dev,
            demo: self.demo,
            api_keys: self.api_keys,
            sealing_keys: self.sealing_keys,
            data_keys: self.data_keys,
            storage_encrypt: self.storage.encrypt,
            allowed_origins: self.allowed_origins,
            guest_enabled: self.guest.enabled,
            guest_per_minute: self.guest.per_minute,
            guest_burst: self.guest.burst,
            idle_timeout_secs: self.sessions.idle_timeout_secs,
            absolute_timeout_secs: self.sessions.absolute_timeout_secs,
            max_idle_secs: self.sessions.max_idle_secs,
            max_absolute_secs: self.sessions.max_absolute_secs,
            touch_fraction: self.sessions.touch_fraction,
            rotation_grace_secs: self.sessions.rotation_grace_secs,
            max_body_bytes: self.limits.max_body_bytes,
            max_attributes_bytes: self.limits.max_attributes_bytes,
            max_json_depth: self.limits.max_json_depth,
            max_label_bytes: self.limits.max_label_bytes,
            max_user_agent_bytes: self.limits.max_user_agent_bytes,
            sweep_interval_secs: self.sweeper.interval_secs,
            sweep_batch: self.sweeper.batch,
            max_handoff_codes_per_session: self.limits.max_handoff_codes_per_session,
            max_tickets_per_session: self.limits.max_tickets_per_session,
            max_redemptions_per_principal_per_hour: self.limits.max_redemptions_per_principal_per_hour,
            max_sessions_per_principal: self.limits.max_sessions_per_principal,
            max_sync_sockets_per_session: self.limits.max_sync_sockets_per_session,
            http_header_read_timeout_secs: self.http.header_read_timeout_secs,
            http_idle_timeout_secs: self.http.idle_timeout_secs,
            http_max_connections: self.http.max_connections,
            http_trusted_proxies: self.http.trusted_proxies,
            cluster_node_id: self.cluster.node_id,
            cluster_listen: self.cluster.listen,
            cluster_peers: self.cluster.peers,
            cluster_replicas: self.cluster.replicas,
            cluster_name: self.cluster.name,
            session_cache_enabled: self.session_cache.enabled,
            session_cache_ttl_secs: self.session_cache.ttl_secs,
            session_cache_cap_secs: self.session_cache.cap_secs,
        }
    }
}

/// Reads and parses the configuration file at `path` into a layer.
pub fn load(path: &Path) -> Result<ConfigLayer, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::ReadFile { path: path.to_owned(), source })?;
    let file = FileConfig::parse(&text)
        .map_err(|source| ConfigError::ParseFile { path: path.to_owned(), source })?;
    let base = path.parent().unwrap_or(Path::new("."));
    Ok(file.into_layer(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example in this module's documentation, which must stay a valid file.
    const EXAMPLE: &str = r#"
listen = "127.0.0.1:7878"
data = "./continuum-data"
store = "redb"
dev = false
demo = false
api_keys = ["ck_one", "ck_two"]
sealing_keys = ["sk_one"]
allowed_origins = ["https://app.example"]

[session_cache]
enabled = false
ttl_secs = 30
cap_secs = 5

[guest]
enabled = false
per_minute = 10
burst = 5

[sessions]
idle_timeout_secs = 1800
absolute_timeout_secs = 604800
max_idle_secs = 2592000
max_absolute_secs = 34560000
touch_fraction = 0.05
rotation_grace_secs = 10

[limits]
max_body_bytes = 65536
max_attributes_bytes = 16384
max_json_depth = 16
max_label_bytes = 128
max_user_agent_bytes = 512
max_handoff_codes_per_session = 5
max_tickets_per_session = 16
max_redemptions_per_principal_per_hour = 20
max_sessions_per_principal = 100
max_sync_sockets_per_session = 16

[http]
header_read_timeout_secs = 10
idle_timeout_secs = 60
max_connections = 10000

[sweeper]
interval_secs = 30
batch = 1000

[cluster]
node_id = "a"
listen = "127.0.0.1:7001"
peers = ["127.0.0.1:7002", "127.0.0.1:7003"]
replicas = 1
name = "continuum"
"#;

    #[test]
    fn the_documented_example_parses_into_every_field() {
        let layer = FileConfig::parse(EXAMPLE).unwrap().into_layer(Path::new("/etc/continuum"));
        assert_eq!(layer.listen, Some("127.0.0.1:7878".parse().unwrap()));
        assert_eq!(layer.data, Some(PathBuf::from("/etc/continuum/./continuum-data")));
        assert_eq!(layer.store, Some(StoreKind::Redb));
        assert_eq!(layer.api_keys, Some(vec!["ck_one".to_owned(), "ck_two".to_owned()]));
        assert_eq!(layer.sealing_keys, Some(vec!["sk_one".to_owned()]));
        assert_eq!(layer.allowed_origins, Some(vec!["https://app.example".to_owned()]));
        assert_eq!(layer.guest_per_minute, Some(10));
        assert_eq!(layer.touch_fraction, Some(0.05));
        assert_eq!(layer.max_user_agent_bytes, Some(512));
        assert_eq!(layer.sweep_batch, Some(1000));
        assert_eq!(layer.max_handoff_codes_per_session, Some(5));
        assert_eq!(layer.max_tickets_per_session, Some(16));
        assert_eq!(layer.max_redemptions_per_principal_per_hour, Some(20));
        assert_eq!(layer.max_sessions_per_principal, Some(100));
        assert_eq!(layer.max_sync_sockets_per_session, Some(16));
        assert_eq!(layer.http_header_read_timeout_secs, Some(10));
        assert_eq!(layer.http_idle_timeout_secs, Some(60));
        assert_eq!(layer.http_max_connections, Some(10000));
        assert_eq!(layer.cluster_node_id.as_deref(), Some("a"));
        assert_eq!(layer.cluster_listen, Some("127.0.0.1:7001".parse().unwrap()));
        assert_eq!(layer.cluster_peers.as_ref().map(Vec::len), Some(2));
        assert_eq!(layer.cluster_replicas, Some(Replicas::Backups(1)));
        assert_eq!(layer.cluster_name.as_deref(), Some("continuum"));
    }

    #[test]
    fn replicas_is_a_number_or_all() {
        let replicas = |text: &str| FileConfig::parse(text).map(|file| file.cluster.replicas);
        assert_eq!(replicas("[cluster]\nreplicas = 2").unwrap(), Some(Replicas::Backups(2)));
        assert_eq!(replicas("[cluster]\nreplicas = \"all\"").unwrap(), Some(Replicas::All));
        assert_eq!(replicas("[cluster]\n").unwrap(), None);
        let error = replicas("[cluster]\nreplicas = \"most\"").unwrap_err().to_string();
        assert!(error.contains("`all`"), "{error}");
        assert!(replicas("[cluster]\nreplicas = -1").is_err());
    }

    #[test]
    fn absolute_data_paths_are_kept() {
        let layer = FileConfig::parse("data = \"/var/lib/continuum\"").unwrap().into_layer(Path::new("/x"));
        assert_eq!(layer.data, Some(PathBuf::from("/var/lib/continuum")));
    }

    #[test]
    fn unknown_keys_are_named_in_the_error() {
        let top = FileConfig::parse("listen = \"127.0.0.1:1\"\ncolour = \"blue\"\n").unwrap_err();
        assert!(top.to_string().contains("unknown field `colour`"), "{top}");
        let nested = FileConfig::parse("[sessions]\nidle_timeout = 5\n").unwrap_err();
        assert!(nested.to_string().contains("unknown field `idle_timeout`"), "{nested}");
        let table = FileConfig::parse("[session]\n").unwrap_err();
        assert!(table.to_string().contains("unknown field `session`"), "{table}");
    }

    #[test]
    fn wrong_types_are_refused() {
        assert!(FileConfig::parse("listen = \"not an address\"").is_err());
        assert!(FileConfig::parse("store = \"redis\"").is_err());
        assert!(FileConfig::parse("[guest]\nburst = -1").is_err());
    }
}
