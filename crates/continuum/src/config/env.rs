//! `CONTINUUM_*` environment variables to a [`ConfigLayer`].
//!
//! Each TOML key has a variable: `CONTINUUM_` followed by the table and key in capitals, e.g.
//! `listen` is `CONTINUUM_LISTEN` and `[sessions] idle_timeout_secs` is
//! `CONTINUUM_SESSIONS_IDLE_TIMEOUT_SECS`. `api_keys` is `CONTINUUM_API_KEY`, comma-separated;
//! `sealing_keys` is `CONTINUUM_SEALING_KEYS`, comma-separated; `allowed_origins` is
//! `CONTINUUM_ALLOWED_ORIGINS`, comma-separated; `data_keys` is `CONTINUUM_DATA_KEYS`,
//! comma-separated; `[cluster] peers` is `CONTINUUM_CLUSTER_PEERS`,
//! comma-separated.
//! Booleans are `true`/`false`, `1`/`0`, `yes`/`no` or `on`/`off`.

use std::net::SocketAddr;
use std::str::FromStr;

use super::error::ConfigError;
use super::layer::ConfigLayer;

/// Variables that other parts of the binary read; `serve` leaves them alone without a warning.
/// The `CONTINUUM_TEST_*` ones are the hidden test settings of [`crate::test_knobs`].
const OTHER_VARIABLES: [&str; 5] = [
    "CONTINUUM_LOG",
    "CONTINUUM_SERVER",
    "CONTINUUM_CONFIG",
    crate::test_knobs::CLOCK_SKEW_VARIABLE,
    crate::test_knobs::FAULT_MODE_VARIABLE,
];

/// Every variable [`from_vars`] understands, in the order of the TOML file.
pub const VARIABLES: [&str; 43] = [
    "CONTINUUM_LISTEN",
    "CONTINUUM_DATA",
    "CONTINUUM_STORE",
    "CONTINUUM_DEV",
    "CONTINUUM_DEMO",
    "CONTINUUM_API_KEY",
    "CONTINUUM_SEALING_KEYS",
    "CONTINUUM_DATA_KEYS",
    "CONTINUUM_ALLOWED_ORIGINS",
    "CONTINUUM_STORAGE_ENCRYPT",
    "CONTINUUM_GUEST_ENABLED",
    "CONTINUUM_GUEST_PER_MINUTE",
    "CONTINUUM_GUEST_BURST",
    "CONTINUUM_SESSIONS_IDLE_TIMEOUT_SECS",
    "CONTINUUM_SESSIONS_ABSOLUTE_TIMEOUT_SECS",
    "CONTINUUM_SESSIONS_MAX_IDLE_SECS",
    "CONTINUUM_SESSIONS_MAX_ABSOLUTE_SECS",
    "CONTINUUM_SESSIONS_TOUCH_FRACTION",
    "CONTINUUM_SESSIONS_ROTATION_GRACE_SECS",
    "CONTINUUM_LIMITS_MAX_BODY_BYTES",
    "CONTINUUM_LIMITS_MAX_ATTRIBUTES_BYTES",
    "CONTINUUM_LIMITS_MAX_JSON_DEPTH",
    "CONTINUUM_LIMITS_MAX_LABEL_BYTES",
    "CONTINUUM_LIMITS_MAX_USER_AGENT_BYTES",
    "CONTINUUM_LIMITS_MAX_HANDOFF_CODES_PER_SESSION",
    "CONTINUUM_LIMITS_MAX_TICKETS_PER_SESSION",
    "CONTINUUM_LIMITS_MAX_REDEMPTIONS_PER_PRINCIPAL_PER_HOUR",
    "CONTINUUM_LIMITS_MAX_SESSIONS_PER_PRINCIPAL",
    "CONTINUUM_LIMITS_MAX_SYNC_SOCKETS_PER_SESSION",
    "CONTINUUM_SWEEPER_INTERVAL_SECS",
    "CONTINUUM_SWEEPER_BATCH",
    "CONTINUUM_HTTP_HEADER_READ_TIMEOUT_SECS",
    "CONTINUUM_HTTP_IDLE_TIMEOUT_SECS",
    "CONTINUUM_HTTP_MAX_CONNECTIONS",
    "CONTINUUM_HTTP_TRUSTED_PROXIES",
    "CONTINUUM_CLUSTER_NODE_ID",
    "CONTINUUM_CLUSTER_LISTEN",
    "CONTINUUM_CLUSTER_PEERS",
    "CONTINUUM_CLUSTER_REPLICAS",
    "CONTINUUM_CLUSTER_NAME",
    "CONTINUUM_SESSION_CACHE_ENABLED",
    "CONTINUUM_SESSION_CACHE_TTL_SECS",
    "CONTINUUM_SESSION_CACHE_CAP_SECS",
];

/// The layer the variables in `vars` describe, and the names of `CONTINUUM_*` variables that
/// mean nothing to `serve` (likely typos, for the caller to warn about).
///
/// An empty value counts as unset, so `CONTINUUM_DEV= continuum serve` is the same as not
/// setting it. A value that does not parse is an error naming the variable.
pub fn from_vars<I>(vars: I) -> Result<(ConfigLayer, Vec<String>), ConfigError>
where
    I: IntoIterator<Item = (String, String)>,
{
    let mut layer = ConfigLayer::default();
    let mut unknown = Vec::new();
    for (name, value) in vars {
        if !name.starts_with("CONTINUUM_") || value.trim().is_empty() {
            continue;
        }
        let value = value.trim();
        match name.as_str() {
            "CONTINUUM_LISTEN" => layer.listen = Some(parse(&name, value)?),
            "CONTINUUM_DATA" => layer.data = Some(value.into()),
            "CONTINUUM_STORE" => layer.store = Some(parse(&name, value)?),
            "CONTINUUM_DEV" => layer.dev = Some(parse_bool(&name, value)?),
            "CONTINUUM_DEMO" => layer.demo = Some(parse_bool(&name, value)?),
            "CONTINUUM_API_KEY" => layer.api_keys = Some(split_keys(value)),
            "CONTINUUM_SEALING_KEYS" => layer.sealing_keys = Some(split_keys(value)),
            "CONTINUUM_DATA_KEYS" => layer.data_keys = Some(split_keys(value)),
            "CONTINUUM_STORAGE_ENCRYPT" => layer.storage_encrypt = Some(parse_bool(&name, value)?),
            "CONTINUUM_ALLOWED_ORIGINS" => layer.allowed_origins = Some(split_keys(value)),
            "CONTINUUM_GUEST_ENABLED" => layer.guest_enabled = Some(parse_bool(&name, value)?),
            "CONTINUUM_GUEST_PER_MINUTE" => layer.guest_per_minute = Some(parse(&name, value)?),
            "CONTINUUM_GUEST_BURST" => layer.guest_burst = Some(parse(&name, value)?),
            "CONTINUUM_SESSIONS_IDLE_TIMEOUT_SECS" => layer.idle_timeout_secs = Some(parse(&name, value)?),
            "CONTINUUM_SESSIONS_ABSOLUTE_TIMEOUT_SECS" => {
                layer.absolute_timeout_secs = Some(parse(&name, value)?)
            }
            "CONTINUUM_SESSIONS_MAX_IDLE_SECS" => layer.max_idle_secs = Some(parse(&name, value)?),
            "CONTINUUM_SESSIONS_MAX_ABSOLUTE_SECS" => layer.max_absolute_secs = Some(parse(&name, value)?),
            "CONTINUUM_SESSIONS_TOUCH_FRACTION" => layer.touch_fraction = Some(parse(&name, value)?),
            "CONTINUUM_SESSIONS_ROTATION_GRACE_SECS" => {
                layer.rotation_grace_secs = Some(parse(&name, value)?)
            }
            "CONTINUUM_LIMITS_MAX_BODY_BYTES" => layer.max_body_bytes = Some(parse(&name, value)?),
            "CONTINUUM_LIMITS_MAX_ATTRIBUTES_BYTES" => {
                layer.max_attributes_bytes = Some(parse(&name, value)?)
            }
            "CONTINUUM_LIMITS_MAX_JSON_DEPTH" => layer.max_json_depth = Some(parse(&name, value)?),
            "CONTINUUM_LIMITS_MAX_LABEL_BYTES" => layer.max_label_bytes = Some(parse(&name, value)?),
            "CONTINUUM_LIMITS_MAX_USER_AGENT_BYTES" => {
                layer.max_user_agent_bytes = Some(parse(&name, value)?)
            }
            "CONTINUUM_SWEEPER_INTERVAL_SECS" => layer.sweep_interval_secs = Some(parse(&name, value)?),
            "CONTINUUM_SWEEPER_BATCH" => layer.sweep_batch = Some(parse(&name, value)?),
            "CONTINUUM_LIMITS_MAX_HANDOFF_CODES_PER_SESSION" => {
                layer.max_handoff_codes_per_session = Some(parse(&name, value)?)
            }
            "CONTINUUM_LIMITS_MAX_TICKETS_PER_SESSION" => {
                layer.max_tickets_per_session = Some(parse(&name, value)?)
            }
            "CONTINUUM_LIMITS_MAX_REDEMPTIONS_PER_PRINCIPAL_PER_HOUR" => {
                layer.max_redemptions_per_principal_per_hour = Some(parse(&name, value)?)
            }
            "CONTINUUM_LIMITS_MAX_SESSIONS_PER_PRINCIPAL" => {
                layer.max_sessions_per_principal = Some(parse(&name, value)?)
            }
            "CONTINUUM_LIMITS_MAX_SYNC_SOCKETS_PER_SESSION" => {
                layer.max_sync_sockets_per_session = Some(parse(&name, value)?)
            }
            "CONTINUUM_HTTP_HEADER_READ_TIMEOUT_SECS" => {
                layer.http_header_read_timeout_secs = Some(parse(&name, value)?)
            }
            "CONTINUUM_HTTP_IDLE_TIMEOUT_SECS" => layer.http_idle_timeout_secs = Some(parse(&name, value)?),
            "CONTINUUM_HTTP_MAX_CONNECTIONS" => layer.http_max_connections = Some(parse(&name, value)?),
            "CONTINUUM_HTTP_TRUSTED_PROXIES" => layer.http_trusted_proxies = Some(split_keys(value)),
            "CONTINUUM_CLUSTER_NODE_ID" => layer.cluster_node_id = Some(value.to_owned()),
            "CONTINUUM_CLUSTER_LISTEN" => layer.cluster_listen = Some(parse(&name, value)?),
            "CONTINUUM_CLUSTER_PEERS" => {
                let peers: Result<Vec<SocketAddr>, _> =
                    split_keys(value).iter().map(|peer| parse(&name, peer)).collect();
                layer.cluster_peers = Some(peers?)
            }
            "CONTINUUM_CLUSTER_REPLICAS" => layer.cluster_replicas = Some(parse(&name, value)?),
            "CONTINUUM_CLUSTER_NAME" => layer.cluster_name = Some(value.to_owned()),
            "CONTINUUM_SESSION_CACHE_ENABLED" => {
                layer.session_cache_enabled = Some(parse_bool(&name, value)?)
            }
            "CONTINUUM_SESSION_CACHE_TTL_SECS" => layer.session_cache_ttl_secs = Some(parse(&name, value)?),
            "CONTINUUM_SESSION_CACHE_CAP_SECS" => layer.session_cache_cap_secs = Some(parse(&name, value)?),
            other if OTHER_VARIABLES.contains(&other) => {}
            _ => unknown.push(name),
        }
    }
    Ok((layer, unknown))
}

/// `a, b,,c` to `["a", "b", "c"]`.
fn split_keys(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|key| !key.is_empty()).map(str::to_owned).collect()
}

fn parse<T>(name: &str, value: &str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|error: T::Err| ConfigError::Env {
        name: name.to_owned(),
        value: value.to_owned(),
        reason: error.to_string(),
    })
}

fn parse_bool(name: &str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Env {
            name: name.to_owned(),
            value: value.to_owned(),
            reason: "expected true/false, 1/0, yes/no or on/off".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StoreKind;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect()
    }

    #[test]
    fn variables_fill_their_fields() {
        let (layer, unknown) = from_vars(vars(&[
            ("CONTINUUM_LISTEN", "127.0.0.1:9000"),
            ("CONTINUUM_DATA", "/srv/continuum"),
            ("CONTINUUM_STORE", "memory"),
            ("CONTINUUM_DEV", "Yes"),
            ("CONTINUUM_API_KEY", "ck_a, ck_b,"),
            ("CONTINUUM_ALLOWED_ORIGINS", "https://a.example, http://localhost:3000"),
            ("CONTINUUM_GUEST_ENABLED", "0"),
            ("CONTINUUM_SESSIONS_TOUCH_FRACTION", "0.25"),
            ("CONTINUUM_SWEEPER_BATCH", "7"),
            ("PATH", "/usr/bin"),
            ("CONTINUUM_LOG", "debug"),
        ]))
        .unwrap();
        assert!(unknown.is_empty());
        assert_eq!(layer.listen, Some("127.0.0.1:9000".parse().unwrap()));
        assert_eq!(layer.data, Some("/srv/continuum".into()));
        assert_eq!(layer.store, Some(StoreKind::Memory));
        assert_eq!(layer.dev, Some(true));
        assert_eq!(layer.api_keys, Some(vec!["ck_a".to_owned(), "ck_b".to_owned()]));
        assert_eq!(
            layer.allowed_origins,
            Some(vec!["https://a.example".to_owned(), "http://localhost:3000".to_owned()])
        );
        assert_eq!(layer.guest_enabled, Some(false));
        assert_eq!(layer.touch_fraction, Some(0.25));
        assert_eq!(layer.sweep_batch, Some(7));
    }

    #[test]
    fn every_documented_variable_is_understood() {
        let values = |name: &str| match name {
            "CONTINUUM_LISTEN" | "CONTINUUM_CLUSTER_LISTEN" => "127.0.0.1:1",
            "CONTINUUM_CLUSTER_PEERS" => "127.0.0.1:2, 127.0.0.1:3",
            "CONTINUUM_HTTP_TRUSTED_PROXIES" => "127.0.0.1",
            "CONTINUUM_STORE" => "redb",
            "CONTINUUM_DEV" | "CONTINUUM_DEMO" | "CONTINUUM_GUEST_ENABLED" => "true",
            _ => "1",
        };
        let all = VARIABLES.iter().map(|name| (name.to_string(), values(name).to_owned()));
        let (layer, unknown) = from_vars(all).unwrap();
        assert!(unknown.is_empty(), "{unknown:?}");
        assert_eq!(layer.sweep_interval_secs, Some(1));
        assert_eq!(layer.demo, Some(true));
        assert_eq!(layer.max_user_agent_bytes, Some(1));
        assert_eq!(layer.max_sessions_per_principal, Some(1));
        assert_eq!(layer.max_sync_sockets_per_session, Some(1));
        assert_eq!(layer.http_idle_timeout_secs, Some(1));
        assert_eq!(layer.http_max_connections, Some(1));
        assert_eq!(layer.cluster_peers.map(|peers| peers.len()), Some(2));
        assert_eq!(layer.cluster_replicas, Some(continuum_cluster::replication::Replicas::Backups(1)));
    }

    #[test]
    fn a_bad_peer_names_the_variable() {
        let error = from_vars(vars(&[("CONTINUUM_CLUSTER_PEERS", "127.0.0.1:2,nowhere")])).unwrap_err();
        assert!(error.to_string().contains("CONTINUUM_CLUSTER_PEERS=\"nowhere\""), "{error}");
    }

    #[test]
    fn empty_values_are_unset_and_typos_are_reported() {
        let (layer, unknown) = from_vars(vars(&[("CONTINUUM_DEV", ""), ("CONTINUUM_LISTN", "x")])).unwrap();
        assert_eq!(layer, ConfigLayer::default());
        assert_eq!(unknown, vec!["CONTINUUM_LISTN".to_owned()]);
    }

    #[test]
    fn bad_values_name_the_variable() {
        let error = from_vars(vars(&[("CONTINUUM_GUEST_BURST", "many")])).unwrap_err();
        assert!(error.to_string().contains("CONTINUUM_GUEST_BURST"), "{error}");
        let error = from_vars(vars(&[("CONTINUUM_DEV", "maybe")])).unwrap_err();
        assert!(error.to_string().contains("CONTINUUM_DEV"), "{error}");
    }
}
