//! `continuum gateway`: parse the flags, bind, run the affinity gateway until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use continuum_gateway::{Affinity, GatewayConfig, HealthConfig, NodeSpec};
use tokio::net::TcpListener;

const GATEWAY_AFTER_HELP: &str = "\
Each node is http://host:port, whose id is host:port, or id=http://host:port. The placement ranks
node ids: a replicated cluster behind the gateway must use the same ids. With --affinity sid a
request goes to the owner of its session (the __Host-continuum or continuum cookie,
Authorization: Session, a /v1/sessions/{sid} path, the token of a POST /v1/sessions/validate body)
or of its document (/v1/sync/{scope}/{name}, /v1/docs/{scope}/{name}…), and to the next owner when
that node is ejected; requests without a key go to the least-loaded live node. The gateway's own
metrics are at /metrics. Nodes should list the gateway's address in [http] trusted_proxies, so
their per-client rate limits see the client's address from X-Forwarded-For.";

/// `sid` or `ip`, as `--affinity` takes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum AffinityArg {
    /// By session id and document, failing over to the next owner
    #[default]
    Sid,
    /// By client IP address (nginx's ip_hash), for comparison
    Ip,
}

/// Arguments of `continuum gateway`.
#[derive(Debug, clap::Args)]
#[command(after_long_help = GATEWAY_AFTER_HELP)]
pub struct GatewayArgs {
    /// Address to listen on; port 0 picks a free port
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7878")]
    pub listen: SocketAddr,
    /// The nodes, comma-separated: http://host:port or id=http://host:port
    #[arg(long, value_name = "URLS", required = true)]
    pub nodes: String,
    /// What makes a request sticky to a node
    #[arg(long, value_enum, default_value_t = AffinityArg::Sid)]
    pub affinity: AffinityArg,
    /// Milliseconds between two active checks (GET /readyz) of a node
    #[arg(long, value_name = "MS", default_value_t = 200)]
    pub check_interval_ms: u64,
    /// Milliseconds a check may take before it counts as failed
    #[arg(long, value_name = "MS", default_value_t = 200)]
    pub check_timeout_ms: u64,
    /// Failed checks in a row that eject a node (a connect error or a 502/503 ejects at once)
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub fall: u32,
    /// Passed checks in a row that re-admit an ejected node
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub rise: u32,
    /// Largest request body forwarded, in bytes (bodies are read whole to route and retry them)
    #[arg(long, value_name = "BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
}

impl GatewayArgs {
    /// The gateway's configuration from the flags.
    pub fn config(&self) -> anyhow::Result<GatewayConfig> {
        let nodes = NodeSpec::parse_list(&self.nodes).context("invalid --nodes")?;
        let mut config = GatewayConfig::new(nodes);
        config.affinity = match self.affinity {
            AffinityArg::Sid => Affinity::Sid,
            AffinityArg::Ip => Affinity::Ip,
        };
        config.health = HealthConfig {
            interval: Duration::from_millis(self.check_interval_ms),
            timeout: Duration::from_millis(self.check_timeout_ms),
            fall: self.fall,
            rise: self.rise,
        };
        config.max_body_bytes = self.max_body_bytes;
        config.validate().context("invalid gateway settings")?;
        Ok(config)
    }
}

/// Runs `continuum gateway` until a shutdown signal.
pub async fn run(args: GatewayArgs) -> anyhow::Result<()> {
    let config = args.config()?;
    let shutdown = crate::shutdown::on_signal().context("cannot install the signal handlers")?;
    let listener =
        TcpListener::bind(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr().context("cannot read the bound address")?;
    let ids: Vec<&str> = config.nodes.iter().map(|node| node.id.as_str()).collect();
    tracing::info!(%addr, nodes = %ids.join(","), affinity = ?config.affinity, "gateway listening");
    continuum_gateway::run(config, listener, shutdown).await.context("the gateway failed")?;
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
            "gateway",
            "--nodes",
            "http://127.0.0.1:7001,b=http://127.0.0.1:7002",
            "--affinity",
            "ip",
            "--fall",
            "3",
        ])
        .unwrap();
        let crate::cli::Command::Gateway(args) = cli.command else { panic!("parsed as gateway") };
        let config = args.config().unwrap();
        let ids: Vec<&str> = config.nodes.iter().map(|node| node.id.as_str()).collect();
        assert_eq!(ids, ["127.0.0.1:7001", "b"]);
        assert_eq!((config.affinity, config.health.fall), (Affinity::Ip, 3));
        let bad = GatewayArgs { rise: 0, ..args };
        assert!(bad.config().is_err());
    }
}
