//! `continuum edge`: parse the flags, bind, run an edge of an origin until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use continuum_edge::EdgeConfig;
use continuum_server::ServerConfig;
use tokio::net::TcpListener;

const EDGE_AFTER_HELP: &str = "\
An edge serves the client plane close to the user: GET /v1/me and every session check are
answered from a cache of the origin's session records, which the origin's GET /v1/events keeps
honest (a revocation, rotation or sign-out everywhere applies at once). While that stream is down
or silent, cached sessions keep answering for --stream-cap-secs after it was last heard, then the
edge asks the origin again, and refuses (503) what it cannot check. Sync sockets are served from
the edge's own copy of each document: devices' updates are queued on the edge's disk and replayed
to the origin, and each document with a device here keeps one read-only socket to the origin
(GET /v1/edge/sync/...), so changes made at the origin or at other edges reach it; that socket
closes --downstream-linger-secs after the document's last device left. Logging out, devices,
guest sessions, handoff and the whole backend plane are forwarded to the origin. The origin's API
key (--origin-api-key or CONTINUUM_ORIGIN_API_KEY) authenticates the edge there; list the edge's
address in the origin's --trusted-proxy so its per-client limits see the client.";

/// Arguments of `continuum edge`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = EDGE_AFTER_HELP)]
pub struct EdgeArgs {
    /// Address to listen on; port 0 picks a free port
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7879")]
    pub listen: SocketAddr,
    /// The origin: http://host:port of a `continuum serve` (or of a gateway in front of nodes)
    #[arg(long, value_name = "URL")]
    pub origin: String,
    /// Data directory for the edge's id and key files
    #[arg(long, value_name = "DIR", default_value = "./continuum-edge-data")]
    pub data: PathBuf,
    /// A backend-plane API key of the origin
    #[arg(long, value_name = "KEY", env = "CONTINUUM_ORIGIN_API_KEY", hide_env_values = true)]
    pub origin_api_key: String,
    /// This edge's id, unique among the origin's edges [default: read from, or first written to,
    /// <data>/edge-id]
    #[arg(long, value_name = "ID")]
    pub edge_id: Option<String>,
    /// Seconds a cached session keeps answering after the origin's event stream was last heard
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub stream_cap_secs: u64,
    /// Seconds a cached session answers at most, stream or not (how stale attributes may be)
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub cache_ttl_secs: u64,
    /// Session records the cache holds at most (when full, entries past the TTL make room; if
    /// none is, a new record is not cached)
    #[arg(long, value_name = "N", default_value_t = continuum_edge::config::DEFAULT_CACHE_CAPACITY)]
    pub cache_capacity: usize,
    /// Seconds a document keeps its socket to the origin after its last device here left
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    pub downstream_linger_secs: u64,
    /// Development mode, as the origin's: plain-HTTP cookies (no Secure flag, no __Host- prefix)
    #[arg(long)]
    pub dev: bool,
    /// Serve the demo app at /, over this edge
    #[arg(long)]
    pub demo: bool,
}

impl EdgeArgs {
    /// The edge's configuration from the flags.
    pub fn config(&self) -> anyhow::Result<EdgeConfig> {
        if self.stream_cap_secs == 0 {
            anyhow::bail!("--stream-cap-secs must be at least 1");
        }
        let mut server = ServerConfig::new(&self.data);
        server.dev = self.dev;
        server.guest.enabled = self.demo;
        let mut config = EdgeConfig::new(self.origin.clone(), self.origin_api_key.clone(), server);
        config.edge_id = self.edge_id.clone();
        config.cache.cap = Duration::from_secs(self.stream_cap_secs);
        config.cache.ttl = Duration::from_secs(self.cache_ttl_secs);
        config.cache.capacity = self.cache_capacity.max(1);
        config.demo = self.demo;
        config.downstream_linger = Duration::from_secs(self.downstream_linger_secs);
        Ok(config)
    }
}

/// Runs `continuum edge` until a shutdown signal.
pub async fn run(args: EdgeArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    let shutdown = crate::shutdown::on_signal().context("cannot install the signal handlers")?;
    let listener =
        TcpListener::bind(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr().context("cannot read the bound address")?;
    tracing::info!(%addr, origin = %args.origin, data = %args.data.display(), "edge listening");
    continuum_edge::run(config, listener, shutdown).await.context("the edge failed")?;
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[test]
    fn flags_make_the_configuration() {
        let cli = crate::cli::Cli::try_parse_from([
            "continuum",
            "edge",
            "--origin",
            "http://127.0.0.1:7878",
            "--origin-api-key",
            "ck_x",
            "--stream-cap-secs",
            "2",
            "--downstream-linger-secs",
            "1",
            "--dev",
        ])
        .unwrap();
        let crate::cli::Command::Edge(args) = cli.command else { panic!("parsed as edge") };
        let config = args.config().unwrap();
        assert_eq!(config.cache.cap, Duration::from_secs(2));
        assert_eq!(config.downstream_linger, Duration::from_secs(1));
        assert_eq!((config.origin.as_str(), config.server.dev), ("http://127.0.0.1:7878", true));
        assert!(EdgeArgs { stream_cap_secs: 0, ..args }.config().is_err());
    }
}
