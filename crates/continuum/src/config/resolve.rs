//! [`resolve`]: a stacked [`ConfigLayer`] to [`ServeSettings`], with defaults and validation.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use continuum_backends::StoreConfig;
use continuum_cluster::replication::ReplicationConfig;
use continuum_core::{Limits, SessionPolicy};
use continuum_server::origin::OriginError;
use continuum_server::{ClientLimits, ConnectionLimits, GuestConfig, ServerConfig};

pub use super::error::ConfigError;
use super::layer::ConfigLayer;

/// Where `serve` listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7878";

/// The data directory unless told otherwise, relative to the working directory.
pub const DEFAULT_DATA: &str = "./continuum-data";

/// The shortest API key accepted from configuration; shorter ones are guessable.
pub const MIN_API_KEY_CHARS: usize = 16;

/// Everything `serve` needs: where to listen and how to run the server.
#[derive(Clone, Debug)]
pub struct ServeSettings {
    /// The address to bind.
    pub listen: SocketAddr,
    /// Which store keeps sessions and documents (`redb` in the data directory unless told).
    pub store: StoreConfig,
    /// The server's configuration.
    pub server: ServerConfig,
    /// Mount the demo app at `/` (a multi-step form on the browser SDK) beside the API. Needs
    /// guest sessions, which this configuration turns on with it.
    pub demo: bool,
    /// The cluster a `replicated` store joins (`[cluster]`); `None` for every other store.
    pub cluster: Option<ReplicationConfig>,
    /// Encryption at rest.
    pub storage: StorageSettings,
    /// The cache of sessions in front of a shared store (`[session_cache]`); `None` when off.
    pub session_cache: Option<continuum_store::session_cache::CachePolicy>,
}

/// Encryption at rest as configured: whether it was asked for, and the keys given. Where the
/// keys come from follows from both and the store (`continuum_backends::key_source`).
#[derive(Clone, Debug, Default)]
pub struct StorageSettings {
    /// `storage.encrypt`; `None` when no layer says (on, except for a shared store without
    /// configured keys).
    pub encrypt: Option<bool>,
    /// `data_keys`, checked to form a ring; empty means the data directory's key file.
    pub data_keys: Vec<String>,
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key, reason: reason.into() }
}

fn at_least_one<T: PartialOrd + From<u8>>(key: &'static str, value: T) -> Result<T, ConfigError> {
    if value < T::from(1) {
        return Err(invalid(key, "must be at least 1"));
    }
    Ok(value)
}

fn secs(value: u64) -> Duration {
    Duration::from_secs(value)
}

/// Fills what `layer` leaves open with the defaults of [`ServerConfig::new`] and checks the
/// result: positive sizes and intervals, default timeouts within their maxima, a touch fraction
/// in `[0, 1]`, API keys of at least [`MIN_API_KEY_CHARS`] printable characters, allowed
/// origins that are `http(s)://host[:port]`.
pub fn resolve(mut layer: ConfigLayer) -> Result<ServeSettings, ConfigError> {
    let listen = match layer.listen {
        Some(listen) => listen,
        None => DEFAULT_LISTEN.parse().expect("the default listen address parses"),
    };
    let mut server = ServerConfig::new(layer.data.take().unwrap_or_else(|| PathBuf::from(DEFAULT_DATA)));
    let store = layer.store.take().unwrap_or(StoreConfig::Redb);
    server.dev = layer.dev.unwrap_or(server.dev);
    let demo = layer.demo.unwrap_or(false);
    if demo && layer.guest_enabled == Some(false) {
        return Err(invalid(
            "guest.enabled",
            "the demo signs visitors in as guests; it cannot be false with demo",
        ));
    }
    server.api_keys = check_keys(layer.api_keys.take().unwrap_or_default())?;
    server.sealing_keys = check_sealing_keys(layer.sealing_keys.take().unwrap_or_default())?;
    let storage = StorageSettings {
        encrypt: layer.storage_encrypt,
        data_keys: check_data_keys(layer.data_keys.take().unwrap_or_default())?,
    };
    server.allowed_origins = layer
        .allowed_origins
        .take()
        .unwrap_or_default()
        .iter()
        .map(|origin| {
            origin.parse().map_err(|error: OriginError| invalid("allowed_origins", error.to_string()))
        })
        .collect::<Result<_, _>>()?;

    let guest = GuestConfig::default();
    server.guest = GuestConfig {
        enabled: layer.guest_enabled.unwrap_or(guest.enabled || demo),
        per_minute: at_least_one("guest.per_minute", layer.guest_per_minute.unwrap_or(guest.per_minute))?,
        burst: at_least_one("guest.burst", layer.guest_burst.unwrap_or(guest.burst))?,
    };

    server.policy = policy(&layer, &server.policy)?;

    let limits = Limits::default();
    server.limits = Limits {
        max_body_bytes: at_least_one(
            "limits.max_body_bytes",
            layer.max_body_bytes.unwrap_or(limits.max_body_bytes),
        )?,
        max_attributes_bytes: at_least_one(
            "limits.max_attributes_bytes",
            layer.max_attributes_bytes.unwrap_or(limits.max_attributes_bytes),
        )?,
        max_json_depth: at_least_one(
            "limits.max_json_depth",
            layer.max_json_depth.unwrap_or(limits.max_json_depth),
        )?,
        max_label_bytes: at_least_one(
            "limits.max_label_bytes",
            layer.max_label_bytes.unwrap_or(limits.max_label_bytes),
        )?,
        max_user_agent_bytes: at_least_one(
            "limits.max_user_agent_bytes",
            layer.max_user_agent_bytes.unwrap_or(limits.max_user_agent_bytes),
        )?,
    };

    server.client_limits = client_limits(&layer)?;
    server.sync_limits.max_sockets_per_session = at_least_one(
        "limits.max_sync_sockets_per_session",
        layer.max_sync_sockets_per_session.unwrap_or(server.sync_limits.max_sockets_per_session),
    )?;
    server.connections = connections(&layer)?;

    if let Some(interval) = layer.sweep_interval_secs {
        server.sweep_interval = secs(at_least_one("sweeper.interval_secs", interval)?);
    }
    if let Some(batch) = layer.sweep_batch {
        server.sweep_batch = at_least_one("sweeper.batch", batch)?;
    }
    let cluster = super::cluster::cluster(&layer, &store)?;
    let session_cache = super::session_cache::session_cache(&layer, &store)?;
    Ok(ServeSettings { listen, store, server, demo, cluster, storage, session_cache })
}

fn client_limits(layer: &ConfigLayer) -> Result<ClientLimits, ConfigError> {
    let defaults = ClientLimits::default();
    Ok(ClientLimits {
        handoff_codes_per_session: at_least_one(
            "limits.max_handoff_codes_per_session",
            layer.max_handoff_codes_per_session.unwrap_or(defaults.handoff_codes_per_session),
        )?,
        tickets_per_session: at_least_one(
            "limits.max_tickets_per_session",
            layer.max_tickets_per_session.unwrap_or(defaults.tickets_per_session),
        )?,
        redemptions_per_principal_per_hour: at_least_one(
            "limits.max_redemptions_per_principal_per_hour",
            layer
                .max_redemptions_per_principal_per_hour
                .unwrap_or(defaults.redemptions_per_principal_per_hour),
        )?,
        sessions_per_principal: at_least_one(
            "limits.max_sessions_per_principal",
            layer.max_sessions_per_principal.unwrap_or(defaults.sessions_per_principal),
        )?,
    })
}

fn connections(layer: &ConfigLayer) -> Result<ConnectionLimits, ConfigError> {
    let defaults = ConnectionLimits::default();
    let pick = |key: &'static str, value: Option<u64>, default: Duration| match value {
        Some(value) => at_least_one(key, value).map(secs),
        None => Ok(default),
    };
    Ok(ConnectionLimits {
        header_read_timeout: pick(
            "http.header_read_timeout_secs",
            layer.http_header_read_timeout_secs,
            defaults.header_read_timeout,
        )?,
        idle_timeout: pick("http.idle_timeout_secs", layer.http_idle_timeout_secs, defaults.idle_timeout)?,
        max_connections: at_least_one(
            "http.max_connections",
            layer.http_max_connections.unwrap_or(defaults.max_connections),
        )?,
        trusted_proxies: layer
            .http_trusted_proxies
            .iter()
            .flatten()
            .map(|ip| {
                ip.trim()
                    .parse()
                    .map_err(|_| invalid("http.trusted_proxies", format!("`{ip}` is not an IP address")))
            })
            .collect::<Result<_, _>>()?,
    })
}

fn policy(layer: &ConfigLayer, defaults: &SessionPolicy) -> Result<SessionPolicy, ConfigError> {
    let pick = |value: Option<u64>, default: Duration| value.map(secs).unwrap_or(default);
    let policy = SessionPolicy {
        default_idle: pick(layer.idle_timeout_secs, defaults.default_idle),
        default_absolute: pick(layer.absolute_timeout_secs, defaults.default_absolute),
        max_idle: pick(layer.max_idle_secs, defaults.max_idle),
        max_absolute: pick(layer.max_absolute_secs, defaults.max_absolute),
        touch_fraction: layer.touch_fraction.unwrap_or(defaults.touch_fraction),
        rotation_grace: pick(layer.rotation_grace_secs, defaults.rotation_grace),
    };
    at_least_one("sessions.idle_timeout_secs", policy.default_idle.as_secs())?;
    at_least_one("sessions.absolute_timeout_secs", policy.default_absolute.as_secs())?;
    if policy.default_idle > policy.max_idle {
        return Err(invalid(
            "sessions.idle_timeout_secs",
            format!(
                "is {} but `sessions.max_idle_secs` is {}",
                policy.default_idle.as_secs(),
                policy.max_idle.as_secs()
            ),
        ));
    }
    if policy.default_absolute > policy.max_absolute {
        return Err(invalid(
            "sessions.absolute_timeout_secs",
            format!(
                "is {} but `sessions.max_absolute_secs` is {}",
                policy.default_absolute.as_secs(),
                policy.max_absolute.as_secs()
            ),
        ));
    }
    if !(0.0..=1.0).contains(&policy.touch_fraction) {
        return Err(invalid(
            "sessions.touch_fraction",
            format!("must be between 0 and 1, got {}", policy.touch_fraction),
        ));
    }
    Ok(policy)
}

/// Sealing keys must form a key ring: each `sk_` and 32 bytes of base64url, no key twice. The
/// error never repeats a key.
fn check_sealing_keys(keys: Vec<String>) -> Result<Vec<String>, ConfigError> {
    if !keys.is_empty() {
        continuum_core::KeyRing::parse(&keys).map_err(|error| invalid("sealing_keys", error.to_string()))?;
    }
    Ok(keys)
}

fn check_data_keys(keys: Vec<String>) -> Result<Vec<String>, ConfigError> {
    if !keys.is_empty() {
        continuum_core::DataKeyRing::parse(&keys).map_err(|error| invalid("data_keys", error.to_string()))?;
    }
    Ok(keys)
}

fn check_keys(keys: Vec<String>) -> Result<Vec<String>, ConfigError> {
    for key in &keys {
        if key.chars().count() < MIN_API_KEY_CHARS {
            return Err(invalid(
                "api_keys",
                format!("must each be at least {MIN_API_KEY_CHARS} characters long"),
            ));
        }
        if !key.chars().all(|c| c.is_ascii_graphic()) {
            return Err(invalid("api_keys", "must be printable ASCII without spaces"));
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_layer_gives_the_server_defaults() {
        let settings = resolve(ConfigLayer::default()).unwrap();
        let defaults = ServerConfig::new(DEFAULT_DATA);
        assert_eq!(settings.listen, DEFAULT_LISTEN.parse().unwrap());
        assert_eq!(settings.server.data_dir, defaults.data_dir);
        assert_eq!(settings.store, StoreConfig::Redb);
        assert!(!settings.server.dev && settings.server.api_keys.is_empty());
        assert_eq!(settings.server.guest, defaults.guest);
        assert_eq!(settings.server.policy, defaults.policy);
        assert_eq!(settings.server.limits, defaults.limits);
        assert_eq!(settings.server.sweep_interval, defaults.sweep_interval);
        assert_eq!(settings.server.sweep_batch, defaults.sweep_batch);
        assert_eq!(settings.server.client_limits, defaults.client_limits);
        assert_eq!(settings.server.sync_limits, defaults.sync_limits);
        assert_eq!(settings.server.connections, defaults.connections);
    }

    #[test]
    fn client_and_connection_limits_are_carried_over_and_must_be_positive() {
        let layer = ConfigLayer {
            max_handoff_codes_per_session: Some(2),
            max_tickets_per_session: Some(3),
            max_redemptions_per_principal_per_hour: Some(4),
            max_sessions_per_principal: Some(5),
            max_sync_sockets_per_session: Some(6),
            http_header_read_timeout_secs: Some(7),
            http_idle_timeout_secs: Some(8),
            http_max_connections: Some(9),
            ..ConfigLayer::default()
        };
        let server = resolve(layer).unwrap().server;
        let limits = ClientLimits {
            handoff_codes_per_session: 2,
            tickets_per_session: 3,
            redemptions_per_principal_per_hour: 4,
            sessions_per_principal: 5,
        };
        assert_eq!(server.client_limits, limits);
        assert_eq!(server.sync_limits.max_sockets_per_session, 6);
        let connections = ConnectionLimits {
            header_read_timeout: secs(7),
            idle_timeout: secs(8),
            max_connections: 9,
            trusted_proxies: Vec::new(),
        };
        assert_eq!(server.connections, connections);
        let zero = |layer: ConfigLayer| refused(layer);
        let error = zero(ConfigLayer { max_sessions_per_principal: Some(0), ..ConfigLayer::default() });
        assert!(error.contains("limits.max_sessions_per_principal"), "{error}");
        let error = zero(ConfigLayer { max_sync_sockets_per_session: Some(0), ..ConfigLayer::default() });
        assert!(error.contains("limits.max_sync_sockets_per_session"), "{error}");
        let error = zero(ConfigLayer { http_idle_timeout_secs: Some(0), ..ConfigLayer::default() });
        assert!(error.contains("http.idle_timeout_secs"), "{error}");
        let error = zero(ConfigLayer { http_max_connections: Some(0), ..ConfigLayer::default() });
        assert!(error.contains("http.max_connections"), "{error}");
    }

    #[test]
    fn demo_turns_guest_sessions_on_and_refuses_them_off() {
        let demo = ConfigLayer { demo: Some(true), ..ConfigLayer::default() };
        let settings = resolve(demo.clone()).unwrap();
        assert!(settings.demo && settings.server.guest.enabled);
        assert!(!resolve(ConfigLayer::default()).unwrap().demo);
        let refused = ConfigLayer { guest_enabled: Some(false), ..demo };
        assert!(resolve(refused).unwrap_err().to_string().contains("guest.enabled"));
    }

    #[test]
    fn flags_over_env_over_file_over_defaults() {
        let file = ConfigLayer {
            listen: Some("127.0.0.1:1".parse().unwrap()),
            data: Some("/from/file".into()),
            dev: Some(true),
            idle_timeout_secs: Some(60),
            sweep_batch: Some(5),
            ..ConfigLayer::default()
        };
        let env = ConfigLayer {
            listen: Some("127.0.0.1:2".parse().unwrap()),
            data: Some("/from/env".into()),
            ..ConfigLayer::default()
        };
        let flags = ConfigLayer { listen: Some("127.0.0.1:3".parse().unwrap()), ..ConfigLayer::default() };
        let settings = resolve(flags.over(env.over(file))).unwrap();
        assert_eq!(settings.listen.port(), 3);
        assert_eq!(settings.server.data_dir, PathBuf::from("/from/env"));
        assert!(settings.server.dev);
        assert_eq!(settings.server.policy.default_idle, secs(60));
        assert_eq!(settings.server.sweep_batch, 5);
        assert_eq!(settings.server.sweep_interval, ServerConfig::new(".").sweep_interval);
    }

    #[test]
    fn memory_store_and_keys_are_carried_over() {
        let key = "ck_0123456789abcdef".to_owned();
        let layer = ConfigLayer {
            store: Some(StoreConfig::Memory),
            api_keys: Some(vec![key.clone()]),
            ..ConfigLayer::default()
        };
        let settings = resolve(layer).unwrap();
        assert_eq!(settings.store, StoreConfig::Memory);
        assert_eq!(settings.server.api_keys, vec![key]);
    }

    fn refused(layer: ConfigLayer) -> String {
        resolve(layer).unwrap_err().to_string()
    }

    #[test]
    fn out_of_range_settings_name_their_key() {
        let error = refused(ConfigLayer { touch_fraction: Some(1.5), ..ConfigLayer::default() });
        assert!(error.starts_with("`sessions.touch_fraction`"), "{error}");
        let error = refused(ConfigLayer {
            idle_timeout_secs: Some(100),
            max_idle_secs: Some(10),
            ..ConfigLayer::default()
        });
        assert!(error.contains("sessions.idle_timeout_secs") && error.contains("max_idle_secs"), "{error}");
        let error = refused(ConfigLayer { absolute_timeout_secs: Some(0), ..ConfigLayer::default() });
        assert!(error.contains("sessions.absolute_timeout_secs"), "{error}");
        let error = refused(ConfigLayer { sweep_interval_secs: Some(0), ..ConfigLayer::default() });
        assert!(error.contains("sweeper.interval_secs"), "{error}");
        let error = refused(ConfigLayer { guest_per_minute: Some(0), ..ConfigLayer::default() });
        assert!(error.contains("guest.per_minute"), "{error}");
        let error = refused(ConfigLayer { max_json_depth: Some(0), ..ConfigLayer::default() });
        assert!(error.contains("limits.max_json_depth"), "{error}");
    }

    #[test]
    fn sealing_keys_must_form_a_ring() {
        let key = continuum_core::SealKey::generate().to_secret_text();
        let keys = |keys: Vec<String>| ConfigLayer { sealing_keys: Some(keys), ..ConfigLayer::default() };
        assert_eq!(resolve(keys(vec![key.clone()])).unwrap().server.sealing_keys, vec![key.clone()]);
        let error = refused(keys(vec![key.clone(), key.clone()]));
        assert!(error.starts_with("`sealing_keys`") && error.contains("same key id"), "{error}");
        let error = refused(keys(vec!["sk_tooshort".into()]));
        assert!(error.contains("sk_") && !error.contains(&key), "{error}");
    }

    #[test]
    fn trusted_proxies_are_ip_addresses() {
        let proxies = |list: &[&str]| ConfigLayer {
            http_trusted_proxies: Some(list.iter().map(|ip| ip.to_string()).collect()),
            ..ConfigLayer::default()
        };
        let settings = resolve(proxies(&["127.0.0.1", " ::1"])).unwrap();
        let texts: Vec<_> =
            settings.server.connections.trusted_proxies.iter().map(|ip| ip.to_string()).collect();
        assert_eq!(texts, ["127.0.0.1", "::1"]);
        let error = refused(proxies(&["10.0.0.0/8"]));
        assert!(error.starts_with("`http.trusted_proxies`") && error.contains("10.0.0.0/8"), "{error}");
    }

    #[test]
    fn allowed_origins_are_parsed_and_checked() {
        let origins = |list: &[&str]| ConfigLayer {
            allowed_origins: Some(list.iter().map(|o| o.to_string()).collect()),
            ..ConfigLayer::default()
        };
        let settings = resolve(origins(&["HTTPS://App.Example:443/", "http://localhost:3000"])).unwrap();
        let texts: Vec<_> = settings.server.allowed_origins.iter().map(|o| o.to_string()).collect();
        assert_eq!(texts, vec!["https://app.example", "http://localhost:3000"]);
        assert!(resolve(ConfigLayer::default()).unwrap().server.allowed_origins.is_empty());
        let error = refused(origins(&["https://app.example/path"]));
        assert!(error.starts_with("`allowed_origins`") && error.contains("/path"), "{error}");
        assert!(refused(origins(&["app.example"])).contains("http://"));
    }

    #[test]
    fn short_or_unprintable_keys_are_refused() {
        let keys = |key: &str| ConfigLayer { api_keys: Some(vec![key.to_owned()]), ..ConfigLayer::default() };
        assert!(refused(keys("short")).contains("at least 16"));
        assert!(refused(keys("a key with spaces inside")).contains("printable"));
    }
}
