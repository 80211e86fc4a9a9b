//! [`GatewayConfig`]: the nodes behind the gateway, how requests are made sticky, and the health
//! checks, parsed and validated before [`crate::run()`] starts.

use std::time::Duration;

use http::Uri;

/// What makes a request sticky to a node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Affinity {
    /// By session id (cookie, `Authorization: Session`, a `{sid}` path, the token of a validate
    /// body) and by document (scope and name); requests without a key go to the least-loaded
    /// live node.
    #[default]
    Sid,
    /// By the client's IP address, for every request (nginx's `ip_hash`): the classic scheme,
    /// kept for comparison.
    Ip,
}

/// Why a node specification or a configuration is refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The URL part of a node does not parse.
    #[error("node `{spec}`: not a URL")]
    Url {
        /// The node as given.
        spec: String,
        /// The parse error.
        #[source]
        source: http::uri::InvalidUri,
    },
    /// The URL is not `http://host:port` (with an optional `/`).
    #[error("node `{0}`: expected http://host:port (no path, no https)")]
    Shape(String),
    /// The node id before `=` is empty or has a character outside `A-Z a-z 0-9 . _ : -`.
    #[error("node `{0}`: a node id uses only A-Z a-z 0-9 . _ : - and is not empty")]
    Id(String),
    /// Two nodes have the same id.
    #[error("node id `{0}` is given twice")]
    Duplicate(String),
    /// No node was given.
    #[error("no nodes: give at least one with --nodes")]
    NoNodes,
    /// A health threshold or interval is zero.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
}

/// One node behind the gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSpec {
    /// The id the placement ranks: `host:port` of the URL, or the id given as `id=url`. The
    /// replicated cluster must use the same ids for its nodes, or gateway and cluster disagree
    /// on owners.
    pub id: String,
    /// Where the node listens: `host:port` (the URL's authority).
    pub authority: String,
}

impl NodeSpec {
    /// Parses `http://host:port` (id `host:port`) or `id=http://host:port`.
    pub fn parse(spec: &str) -> Result<Self, ConfigError> {
        let spec = spec.trim();
        let (id, url) = match spec.split_once('=') {
            Some((id, url)) => (Some(id), url),
            None => (None, spec),
        };
        let uri: Uri = url.parse().map_err(|source| ConfigError::Url { spec: spec.to_owned(), source })?;
        let path_ok = matches!(uri.path(), "" | "/") && uri.query().is_none();
        let authority = match (uri.scheme_str(), uri.authority()) {
            (Some("http"), Some(authority)) if path_ok && uri.port_u16().is_some() => authority.as_str(),
            _ => return Err(ConfigError::Shape(spec.to_owned())),
        };
        if authority.contains('@') {
            return Err(ConfigError::Shape(spec.to_owned()));
        }
        let id = id.unwrap_or(authority);
        let id_ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-');
        if id.is_empty() || !id.bytes().all(id_ok) {
            return Err(ConfigError::Id(spec.to_owned()));
        }
        Ok(Self { id: id.to_owned(), authority: authority.to_owned() })
    }

    /// Parses a comma-separated list, as `--nodes` takes it.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, ConfigError> {
        list.split(',').filter(|part| !part.trim().is_empty()).map(Self::parse).collect()
    }
}

/// Active and passive health checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthConfig {
    /// Time between two active checks (`GET /readyz`) of one node.
    pub interval: Duration,
    /// How long a check may take before it counts as failed.
    pub timeout: Duration,
    /// Consecutive failed checks that eject a live node.
    pub fall: u32,
    /// Consecutive passed checks that re-admit an ejected node.
    pub rise: u32,
}

impl Default for HealthConfig {
    /// Sub-second: a node that stops answering is ejected after two failed checks 200 ms apart
    /// (at most about 0.6 s with the timeout), and at once on a connection error or a 502/503.
    fn default() -> Self {
        Self { interval: Duration::from_millis(200), timeout: Duration::from_millis(200), fall: 2, rise: 2 }
    }
}

/// Everything [`crate::run()`] needs.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// The nodes, in the order given (the order does not change placement).
    pub nodes: Vec<NodeSpec>,
    /// What makes a request sticky.
    pub affinity: Affinity,
    /// The health checks.
    pub health: HealthConfig,
    /// The largest request body the gateway reads before forwarding (bodies are read whole, so
    /// a request can be retried on another node and a validate body routed by its token); a
    /// larger one is refused with 413. At least the nodes' `max_body_bytes`.
    pub max_body_bytes: usize,
    /// The largest WebSocket message relayed (the nodes' sync limit is lower).
    pub max_message_bytes: usize,
    /// How many one-time codes (handoff codes, sync tickets) the gateway remembers the issuing
    /// node of; past it a new code is not remembered and its redemption goes to the
    /// least-loaded node.
    pub max_remembered_codes: usize,
    /// Requests in flight to one node at most, and so connections open to it (a connection is
    /// opened only when every open one is busy); a request past it waits for one to finish.
    pub max_connections_per_node: usize,
    /// How long a connection to a node may stay idle before it is closed rather than reused;
    /// keep it below the nodes' `http.idle_timeout_secs` (60 s by default).
    pub upstream_idle_timeout: Duration,
}

impl GatewayConfig {
    /// A configuration over `nodes` with the defaults.
    pub fn new(nodes: Vec<NodeSpec>) -> Self {
        Self {
            nodes,
            affinity: Affinity::Sid,
            health: HealthConfig::default(),
            max_body_bytes: 1024 * 1024,
            max_message_bytes: 16 * 1024 * 1024,
            max_remembered_codes: 100_000,
            max_connections_per_node: 1024,
            upstream_idle_timeout: Duration::from_secs(30),
        }
    }

    /// Checks what `run` relies on: at least one node, distinct ids, non-zero health and
    /// connection settings.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.nodes.is_empty() {
            return Err(ConfigError::NoNodes);
        }
        let mut ids: Vec<&str> = self.nodes.iter().map(|node| node.id.as_str()).collect();
        ids.sort_unstable();
        if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(ConfigError::Duplicate(pair[0].to_owned()));
        }
        let health = &self.health;
        for (name, zero) in [
            ("the health check interval", health.interval.is_zero()),
            ("the health check timeout", health.timeout.is_zero()),
            ("the fall threshold", health.fall == 0),
            ("the rise threshold", health.rise == 0),
            ("the connections per node", self.max_connections_per_node == 0),
            ("the idle timeout of a node's connections", self.upstream_idle_timeout.is_zero()),
        ] {
            if zero {
                return Err(ConfigError::Zero(name));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_named_by_its_authority_unless_given_an_id() {
        let node = NodeSpec::parse("http://127.0.0.1:7001").unwrap();
        assert_eq!((node.id.as_str(), node.authority.as_str()), ("127.0.0.1:7001", "127.0.0.1:7001"));
        let node = NodeSpec::parse("n1=http://10.0.0.1:7878/").unwrap();
        assert_eq!((node.id.as_str(), node.authority.as_str()), ("n1", "10.0.0.1:7878"));
        let list = NodeSpec::parse_list("http://a:1, http://b:2,").unwrap();
        assert_eq!(list.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), ["a:1", "b:2"]);
    }

    #[test]
    fn bad_nodes_say_what_is_wrong() {
        for bad in ["https://a:1", "http://a", "http://a:1/x", "a:1", "http://u@a:1", "http://a:1?q"] {
            assert!(
                matches!(NodeSpec::parse(bad), Err(ConfigError::Shape(_) | ConfigError::Url { .. })),
                "{bad}"
            );
        }
        assert!(matches!(NodeSpec::parse("=http://a:1"), Err(ConfigError::Id(_))));
        assert!(matches!(NodeSpec::parse("a b=http://a:1"), Err(ConfigError::Id(_))));
        let twice = GatewayConfig::new(NodeSpec::parse_list("x=http://a:1,x=http://b:2").unwrap());
        assert!(matches!(twice.validate(), Err(ConfigError::Duplicate(id)) if id == "x"));
        assert!(matches!(GatewayConfig::new(vec![]).validate(), Err(ConfigError::NoNodes)));
    }
}
