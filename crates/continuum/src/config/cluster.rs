//! [`cluster`]: the `[cluster]` settings of a layer to the [`ReplicationConfig`] a replicated
//! store joins with.

use continuum_backends::StoreConfig;
use continuum_cluster::replication::ReplicationConfig;

use super::error::ConfigError;
use super::layer::ConfigLayer;

/// The cluster this node joins: `None` unless the store is `replicated`, which needs a node id
/// and a cluster listen address (the peers may be empty: the first node of a new cluster).
/// `[cluster]` settings beside another store are ignored with a warning.
pub fn cluster(layer: &ConfigLayer, store: &StoreConfig) -> Result<Option<ReplicationConfig>, ConfigError> {
    if *store != StoreConfig::Replicated {
        if layer.cluster_node_id.is_some() || layer.cluster_listen.is_some() || layer.cluster_peers.is_some()
        {
            tracing::warn!(store = %store, "ignoring the [cluster] settings: the store is not `replicated`");
        }
        return Ok(None);
    }
    let missing = |key| ConfigError::Invalid { key, reason: "is needed with store = \"replicated\"".into() };
    let node_id = layer.cluster_node_id.clone().ok_or(missing("cluster.node_id"))?;
    if node_id.trim().is_empty() || node_id.chars().any(char::is_control) {
        return Err(ConfigError::Invalid {
            key: "cluster.node_id",
            reason: format!("{node_id:?} is not a node id (printable, not blank)"),
        });
    }
    let listen = layer.cluster_listen.ok_or(missing("cluster.listen"))?;
    let peers = layer.cluster_peers.clone().unwrap_or_default();
    if peers.contains(&listen) {
        return Err(ConfigError::Invalid {
            key: "cluster.peers",
            reason: format!("names this node's own cluster address {listen}"),
        });
    }
    let mut config = ReplicationConfig::new(node_id, listen, peers);
    config.replicas = layer.cluster_replicas.unwrap_or(config.replicas);
    if let Some(name) = &layer.cluster_name {
        config.cluster = name.clone();
    }
    Ok(Some(config))
}

#[cfg(test)]
mod tests {
    use continuum_cluster::replication::Replicas;

    use super::*;

    fn replicated(layer: ConfigLayer) -> Result<Option<ReplicationConfig>, ConfigError> {
        cluster(&layer, &StoreConfig::Replicated)
    }

    fn node(id: &str) -> ConfigLayer {
        ConfigLayer {
            cluster_node_id: Some(id.into()),
            cluster_listen: Some("127.0.0.1:7001".parse().unwrap()),
            ..ConfigLayer::default()
        }
    }

    #[test]
    fn a_replicated_store_needs_an_id_and_an_address() {
        let error = replicated(ConfigLayer::default()).unwrap_err().to_string();
        assert_eq!(error, "`cluster.node_id` is needed with store = \"replicated\"");
        let layer = ConfigLayer { cluster_listen: None, ..node("a") };
        assert!(replicated(layer).unwrap_err().to_string().starts_with("`cluster.listen`"));
        let config = replicated(node("a")).unwrap().unwrap();
        assert_eq!((config.node_id.as_str(), config.peers.len()), ("a", 0));
        assert_eq!(config.replicas, Replicas::Backups(1), "one backup by default");
    }

    #[test]
    fn the_settings_reach_the_configuration() {
        let layer = ConfigLayer {
            cluster_peers: Some(vec!["127.0.0.1:7002".parse().unwrap()]),
            cluster_replicas: Some(Replicas::All),
            cluster_name: Some("blue".into()),
            ..node("b")
        };
        let config = replicated(layer).unwrap().unwrap();
        assert_eq!(config.peers, ["127.0.0.1:7002".parse().unwrap()]);
        assert_eq!((config.replicas, config.cluster.as_str()), (Replicas::All, "blue"));
    }

    #[test]
    fn blank_ids_and_self_as_a_peer_are_refused() {
        assert!(replicated(node(" ")).unwrap_err().to_string().starts_with("`cluster.node_id`"));
        assert!(replicated(node("a\u{7}")).is_err());
        let layer = ConfigLayer { cluster_peers: Some(vec!["127.0.0.1:7001".parse().unwrap()]), ..node("a") };
        assert!(replicated(layer).unwrap_err().to_string().contains("own cluster address"));
    }

    #[test]
    fn other_stores_join_no_cluster() {
        assert!(cluster(&node("a"), &StoreConfig::Redb).unwrap().is_none());
    }
}
