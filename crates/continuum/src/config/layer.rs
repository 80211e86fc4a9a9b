//! [`ConfigLayer`]: the settings one source gives (every field optional), and stacking layers.

use std::net::SocketAddr;
use std::path::PathBuf;

use continuum_cluster::replication::Replicas;

/// Which store `serve` keeps sessions and documents in: continuum-backends' parser of
/// `redb`, `redb:<dir>`, `memory`, `redis://…`, `redis+cluster://…`, `postgres://…`.
pub use continuum_backends::StoreConfig as StoreKind;

/// What one source (flags, environment, file) says; `None` leaves the decision to a lower layer.
///
/// Field names follow the TOML keys, prefixed by their table (`guest_`, `sweep_`) where the
/// flat name would be ambiguous.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigLayer {
    /// `listen`: the address to bind.
    pub listen: Option<SocketAddr>,
    /// `data`: the data directory.
    pub data: Option<PathBuf>,
    /// `store`: which store keeps sessions.
    pub store: Option<StoreKind>,
    /// `dev`: plain-HTTP development mode.
    pub dev: Option<bool>,
    /// `demo`: serve the demo app (turns guest sessions on).
    pub demo: Option<bool>,
    /// `api_keys`: backend-plane keys; none means the key file in the data directory.
    pub api_keys: Option<Vec<String>>,
    /// `sealing_keys`: the sealing key ring (`sk_…`, the first seals); none means the key file in
    /// the data directory.
    pub sealing_keys: Option<Vec<String>>,
    /// `data_keys`: the data key ring of encryption at rest (`dk_…`, the first encrypts); none
    /// means the key file in the data directory.
    pub data_keys: Option<Vec<String>>,
    /// `storage.encrypt`: encryption at rest of attributes, devices and documents.
    pub storage_encrypt: Option<bool>,
    /// `allowed_origins`: origins besides the server's own that may use the session cookie.
    pub allowed_origins: Option<Vec<String>>,
    /// `guest.enabled`.
    pub guest_enabled: Option<bool>,
    /// `guest.per_minute`.
    pub guest_per_minute: Option<u32>,
    /// `guest.burst`.
    pub guest_burst: Option<u32>,
    /// `sessions.idle_timeout_secs`: the default idle timeout.
    pub idle_timeout_secs: Option<u64>,
    /// `sessions.absolute_timeout_secs`: the default absolute lifetime.
    pub absolute_timeout_secs: Option<u64>,
    /// `sessions.max_idle_secs`.
    pub max_idle_secs: Option<u64>,
    /// `sessions.max_absolute_secs`.
    pub max_absolute_secs: Option<u64>,
    /// `sessions.touch_fraction`.
    pub touch_fraction: Option<f64>,
    /// `sessions.rotation_grace_secs`.
    pub rotation_grace_secs: Option<u64>,
    /// `limits.max_body_bytes`.
    pub max_body_bytes: Option<usize>,
    /// `limits.max_attributes_bytes`.
    pub max_attributes_bytes: Option<usize>,
    /// `limits.max_json_depth`.
    pub max_json_depth: Option<usize>,
    /// `limits.max_label_bytes`.
    pub max_label_bytes: Option<usize>,
    /// `limits.max_user_agent_bytes`.
    pub max_user_agent_bytes: Option<usize>,
    /// `sweeper.interval_secs`.
    pub sweep_interval_secs: Option<u64>,
    /// `sweeper.batch`.
    pub sweep_batch: Option<usize>,
    /// `limits.max_handoff_codes_per_session`: outstanding handoff codes per session.
    pub max_handoff_codes_per_session: Option<usize>,
    /// `limits.max_tickets_per_session`: outstanding sync tickets per session.
    pub max_tickets_per_session: Option<usize>,
    /// `limits.max_redemptions_per_principal_per_hour`: successful handoff redemptions per principal per hour.
    pub max_redemptions_per_principal_per_hour: Option<u32>,
    /// `limits.max_sessions_per_principal`: live stored sessions per principal; past it the oldest are signed out.
    pub max_sessions_per_principal: Option<usize>,
    /// `limits.max_sync_sockets_per_session`: sync sockets one session may hold open.
    pub max_sync_sockets_per_session: Option<usize>,
    /// `http.header_read_timeout_secs`: seconds to receive a request's header.
    pub http_header_read_timeout_secs: Option<u64>,
    /// `http.idle_timeout_secs`: seconds a keep-alive connection may wait for its next request.
    pub http_idle_timeout_secs: Option<u64>,
    /// `http.max_connections`: connections served at once.
    pub http_max_connections: Option<usize>,
    /// `http.trusted_proxies`: addresses whose `X-Forwarded-For` is believed (the gateways).
    pub http_trusted_proxies: Option<Vec<String>>,
    /// `cluster.node_id`: this node's id in a replicated cluster.
    pub cluster_node_id: Option<String>,
    /// `cluster.listen`: where this node gossips (UDP) and takes replication connections (TCP).
    pub cluster_listen: Option<SocketAddr>,
    /// `cluster.peers`: other nodes' `cluster.listen` addresses.
    pub cluster_peers: Option<Vec<SocketAddr>>,
    /// `cluster.replicas`: backups per key, or every node.
    pub cluster_replicas: Option<Replicas>,
    /// `cluster.name`: nodes of another cluster are refused.
    pub cluster_name: Option<String>,
    /// `session_cache.enabled`: cache sessions in front of a shared store.
    pub session_cache_enabled: Option<bool>,
    /// `session_cache.ttl_secs`: the longest a cached session answers.
    pub session_cache_ttl_secs: Option<u64>,
    /// `session_cache.cap_secs`: the longest a cached session answers after the bus was last heard.
    pub session_cache_cap_secs: Option<u64>,
}

impl ConfigLayer {
    /// This layer stacked over `lower`: every field this layer sets wins, the rest come from
    /// `lower`. Lists are replaced, not appended (`api_keys` from the environment replaces the
    /// file's).
    pub fn over(self, lower: ConfigLayer) -> ConfigLayer {
        ConfigLayer {
            listen: self.listen.or(lower.listen),
            data: self.data.or(lower.data),
            store: self.store.or(lower.store),
            dev: self.dev.or(lower.dev),
            demo: self.demo.or(lower.demo),
            api_keys: self.api_keys.or(lower.api_keys),
            sealing_keys: self.sealing_keys.or(lower.sealing_keys),
            data_keys: self.data_keys.or(lower.data_keys),
            storage_encrypt: self.storage_encrypt.or(lower.storage_encrypt),
            allowed_origins: self.allowed_origins.or(lower.allowed_origins),
            guest_enabled: self.guest_enabled.or(lower.guest_enabled),
            guest_per_minute: self.guest_per_minute.or(lower.guest_per_minute),
            guest_burst: self.guest_burst.or(lower.guest_burst),
            idle_timeout_secs: self.idle_timeout_secs.or(lower.idle_timeout_secs),
            absolute_timeout_secs: self.absolute_timeout_secs.or(lower.absolute_timeout_secs),
            max_idle_secs: self.max_idle_secs.or(lower.max_idle_secs),
            max_absolute_secs: self.max_absolute_secs.or(lower.max_absolute_secs),
            touch_fraction: self.touch_fraction.or(lower.touch_fraction),
            rotation_grace_secs: self.rotation_grace_secs.or(lower.rotation_grace_secs),
            max_body_bytes: self.max_body_bytes.or(lower.max_body_bytes),
            max_attributes_bytes: self.max_attributes_bytes.or(lower.max_attributes_bytes),
            max_json_depth: self.max_json_depth.or(lower.max_json_depth),
            max_label_bytes: self.max_label_bytes.or(lower.max_label_bytes),
            max_user_agent_bytes: self.max_user_agent_bytes.or(lower.max_user_agent_bytes),
            sweep_interval_secs: self.sweep_interval_secs.or(lower.sweep_interval_secs),
            sweep_batch: self.sweep_batch.or(lower.sweep_batch),
            max_handoff_codes_per_session: self
                .max_handoff_codes_per_session
                .or(lower.max_handoff_codes_per_session),
            max_tickets_per_session: self.max_tickets_per_session.or(lower.max_tickets_per_session),
            max_redemptions_per_principal_per_hour: self
                .max_redemptions_per_principal_per_hour
                .or(lower.max_redemptions_per_principal_per_hour),
            max_sessions_per_principal: self.max_sessions_per_principal.or(lower.max_sessions_per_principal),
            max_sync_sockets_per_session: self
                .max_sync_sockets_per_session
                .or(lower.max_sync_sockets_per_session),
            http_header_read_timeout_secs: self
                .http_header_read_timeout_secs
                .or(lower.http_header_read_timeout_secs),
            http_idle_timeout_secs: self.http_idle_timeout_secs.or(lower.http_idle_timeout_secs),
            http_max_connections: self.http_max_connections.or(lower.http_max_connections),
            http_trusted_proxies: self.http_trusted_proxies.or(lower.http_trusted_proxies),
            cluster_node_id: self.cluster_node_id.or(lower.cluster_node_id),
            cluster_listen: self.cluster_listen.or(lower.cluster_listen),
            cluster_peers: self.cluster_peers.or(lower.cluster_peers),
            cluster_replicas: self.cluster_replicas.or(lower.cluster_replicas),
            cluster_name: self.cluster_name.or(lower.cluster_name),
            session_cache_enabled: self.session_cache_enabled.or(lower.session_cache_enabled),
            session_cache_ttl_secs: self.session_cache_ttl_secs.or(lower.session_cache_ttl_secs),
            session_cache_cap_secs: self.session_cache_cap_secs.or(lower.session_cache_cap_secs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upper_layer_wins_field_by_field() {
        let upper = ConfigLayer { dev: Some(false), guest_burst: Some(9), ..ConfigLayer::default() };
        let lower = ConfigLayer {
            dev: Some(true),
            guest_burst: Some(1),
            api_keys: Some(vec!["k".into()]),
            ..ConfigLayer::default()
        };
        let merged = upper.over(lower);
        assert_eq!(merged.dev, Some(false), "an explicit false still wins");
        assert_eq!(merged.guest_burst, Some(9));
        assert_eq!(merged.api_keys, Some(vec!["k".to_owned()]));
        assert_eq!(merged.listen, None);
    }

    #[test]
    fn store_names_parse_strictly() {
        assert_eq!("memory".parse(), Ok(StoreKind::Memory));
        assert_eq!("redb".parse(), Ok(StoreKind::Redb));
        assert!("Redis".parse::<StoreKind>().unwrap_err().to_string().contains("`Redis`"));
    }
}
