//! `continuum serve`: resolve the configuration, bind, open the store, run the server until
//! Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use continuum_backends::{
    CommitObserver, CommitStats, KeySource, OpenOptions, SessionCacheOptions, data_keys, key_source,
};
use continuum_cluster::replication::Replicas;
use continuum_cluster::session_cache::SessionCacheMetrics;
use continuum_core::DataKeyRing;
use continuum_server::Metrics;
use tokio::net::TcpListener;

use crate::config::{self, ConfigError, ConfigLayer, ServeSettings, StoreKind};

/// Where the TOML file and the environment variables are described, for `serve --help`.
const SERVE_AFTER_HELP: &str = "\
Settings come from, highest first: these flags, CONTINUUM_* environment variables, the TOML file
of --config, built-in defaults. Every TOML key has a variable: CONTINUUM_LISTEN, CONTINUUM_DATA,
CONTINUUM_STORE (see --store), CONTINUUM_DEV, CONTINUUM_DEMO, CONTINUUM_API_KEY (comma-separated keys),
CONTINUUM_SEALING_KEYS (comma-separated sk_… keys, the first seals),
CONTINUUM_DATA_KEYS (comma-separated dk_… keys, the first encrypts), CONTINUUM_STORAGE_ENCRYPT,
CONTINUUM_ALLOWED_ORIGINS (comma-separated, like --allowed-origin),
CONTINUUM_HTTP_TRUSTED_PROXIES (comma-separated, like --trusted-proxy),
CONTINUUM_GUEST_ENABLED, CONTINUUM_SESSIONS_IDLE_TIMEOUT_SECS, CONTINUUM_LIMITS_MAX_BODY_BYTES,
CONTINUUM_SWEEPER_INTERVAL_SECS, and so on: CONTINUUM_<TABLE>_<KEY> in capitals.

The TOML file takes listen, data, store, dev, demo, api_keys = [..], sealing_keys = [..],
data_keys = [..], allowed_origins = [..] and the tables [storage] (encrypt), [guest] (enabled,
per_minute, burst), [sessions]
(idle_timeout_secs, absolute_timeout_secs, max_idle_secs, max_absolute_secs, touch_fraction,
rotation_grace_secs), [limits] (max_body_bytes, max_attributes_bytes, max_json_depth,
max_label_bytes, max_user_agent_bytes, max_handoff_codes_per_session, max_tickets_per_session,
max_redemptions_per_principal_per_hour, max_sessions_per_principal,
max_sync_sockets_per_session), [http] (header_read_timeout_secs, idle_timeout_secs,
max_connections, trusted_proxies = [..]), [sweeper] (interval_secs, batch), [session_cache]
(enabled, ttl_secs, cap_secs: like the flags below) and [cluster] (node_id, listen,
peers = [..], replicas, name: for --store replicated, like the flags below; env
CONTINUUM_CLUSTER_NODE_ID, CONTINUUM_CLUSTER_PEERS comma-separated, …). An unknown key is
an error. A relative `data` in the file is taken from the file's directory.

With no API key configured, the first start writes one to <data>/api-keys (mode 0600) and logs
the file's path, never the key. Likewise with no sealing key: <data>/sealing-keys. Nodes that
validate each other's sealed tokens need the same sealing keys.

Sessions' attributes and devices and documents' content are encrypted at rest unless
--encrypt false: with data_keys if given, else <data>/data-keys (created on the first start,
mode 0600; back it up with the store). Nodes sharing Redis or PostgreSQL need the same
data_keys; without them a shared store stays unencrypted unless --encrypt true.";

/// Arguments of `continuum serve`. Unset flags leave the decision to the lower layers.
#[derive(Debug, Default, clap::Args)]
#[command(after_long_help = SERVE_AFTER_HELP)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:7878]; port 0 picks a free port
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Data directory for the store and the API key file [default: ./continuum-data]
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// TOML configuration file
    #[arg(long, value_name = "FILE", env = "CONTINUUM_CONFIG")]
    pub config: Option<PathBuf>,
    /// Development mode: plain-HTTP cookies (no Secure flag, no __Host- prefix)
    #[arg(long)]
    pub dev: bool,
    /// Serve the demo app at / (a multi-step form on the browser SDK; turns guest sessions on).
    /// The admin page is at /admin either way
    #[arg(long)]
    pub demo: bool,
    /// Where sessions and documents are kept: redb (the default, in --data), redb:<dir>, memory,
    /// redis://…, redis+cluster://host:port,…, postgres://…, or replicated (each node its own
    /// redb in --data, copied to the other nodes: see --node-id)
    #[arg(long, value_name = "URL")]
    pub store: Option<StoreKind>,
    /// Keep sessions in memory instead of the embedded store (same as --store memory)
    #[arg(long, conflicts_with = "store")]
    pub memory: bool,
    /// An origin (https://host[:port]) whose pages may use the session cookie to change
    /// something or open a sync socket, besides the server's own (https://<Host>, or
    /// http://<Host> with --dev); repeatable
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    pub allowed_origins: Vec<String>,
    /// With --store replicated: this node's id, unique in the cluster ([cluster] node_id)
    #[arg(long, value_name = "ID")]
    pub node_id: Option<String>,
    /// With --store replicated: where this node gossips (UDP) and takes replication
    /// connections (TCP) from its peers
    #[arg(long, value_name = "ADDR")]
    pub cluster_listen: Option<SocketAddr>,
    /// With --store replicated: other nodes' --cluster-listen addresses, comma-separated
    #[arg(long, value_name = "ADDR,…", value_delimiter = ',')]
    pub peers: Vec<SocketAddr>,
    /// With --store replicated: backups per session and document, or `all` for every node
    /// [default: 1]
    #[arg(long, value_name = "K|all")]
    pub replicas: Option<Replicas>,
    /// An address (a gateway in front of this node) whose X-Forwarded-For names the client, for
    /// rate limits per client; repeatable. Same as [http] trusted_proxies
    #[arg(long = "trusted-proxy", value_name = "IP")]
    pub trusted_proxies: Vec<String>,
    /// With a shared store (Redis, PostgreSQL): answer validations from this node's memory; a
    /// change through any node reaches every node's cache over the store's bus at once. Same
    /// as [session_cache] enabled
    #[arg(long)]
    pub session_cache: bool,
    /// With --session-cache: the longest a cached session answers [default: 30]
    #[arg(long, value_name = "SECS")]
    pub session_cache_ttl_secs: Option<u64>,
    /// With --session-cache: the longest cached sessions answer after the store's bus was last
    /// heard (every node sends a heartbeat each second) [default: 5]
    #[arg(long, value_name = "SECS")]
    pub session_cache_cap_secs: Option<u64>,
    /// Encrypt sessions' attributes and devices and documents' content at rest (true or false)
    /// [default: true, except a shared store without data_keys]. Same as [storage] encrypt
    #[arg(long, value_name = "BOOL")]
    pub encrypt: Option<bool>,
    /// The hidden settings for tests only (clock skew, fault modes).
    #[command(flatten)]
    pub test: crate::test_knobs::TestKnobs,
}

impl ServeArgs {
    /// The flags as the top configuration layer; an absent switch says nothing (so it does
    /// not override `dev = true` from the file).
    pub fn layer(&self) -> ConfigLayer {
        ConfigLayer {
            listen: self.listen,
            data: self.data.clone(),
            store: self.store.clone().or(self.memory.then_some(StoreKind::Memory)),
            dev: self.dev.then_some(true),
            demo: self.demo.then_some(true),
            allowed_origins: (!self.allowed_origins.is_empty()).then(|| self.allowed_origins.clone()),
            http_trusted_proxies: (!self.trusted_proxies.is_empty()).then(|| self.trusted_proxies.clone()),
            cluster_node_id: self.node_id.clone(),
            cluster_listen: self.cluster_listen,
            cluster_peers: (!self.peers.is_empty()).then(|| self.peers.clone()),
            cluster_replicas: self.replicas,
            storage_encrypt: self.encrypt,
            session_cache_enabled: self.session_cache.then_some(true),
            session_cache_ttl_secs: self.session_cache_ttl_secs,
            session_cache_cap_secs: self.session_cache_cap_secs,
            ..ConfigLayer::default()
        }
    }
}

/// The settings for `args` and the environment `vars`, with the file of `--config` read.
pub fn settings<I>(args: &ServeArgs, vars: I) -> Result<ServeSettings, ConfigError>
where
    I: IntoIterator<Item = (String, String)>,
{
    let file = match &args.config {
        Some(path) => config::file::load(path)?,
        None => ConfigLayer::default(),
    };
    let (env, unknown) = config::env::from_vars(vars)?;
    for name in unknown {
        tracing::warn!(variable = %name, "ignoring an environment variable `serve` does not know");
    }
    config::resolve(args.layer().over(env.over(file)))
}

/// The process environment, skipping variables that are not valid UTF-8 (none of ours can be).
fn process_vars() -> impl Iterator<Item = (String, String)> {
    std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
}

/// The embedded store's group commits, as the server's `continuum_store_commit_*` histograms.
fn commit_observer(metrics: &Arc<Metrics>) -> CommitObserver {
    let metrics = Arc::clone(metrics);
    Arc::new(move |stats: CommitStats| metrics.observe_commit(stats.ops, stats.duration.as_secs_f64()))
}

/// The ring encryption at rest uses, or `None` when it is off (see
/// [`continuum_backends::key_source`]).
fn data_key_ring(settings: &ServeSettings) -> anyhow::Result<Option<DataKeyRing>> {
    let storage = &settings.storage;
    let data = &settings.server.data_dir;
    match key_source(&settings.store, storage.encrypt, !storage.data_keys.is_empty()) {
        KeySource::Off => Ok(None),
        KeySource::SharedWithoutKeys => {
            tracing::warn!(
                "documents and session attributes are NOT encrypted at rest: nodes sharing this \
                 store need the same data keys; set data_keys (CONTINUUM_DATA_KEYS) to encrypt, \
                 or --encrypt true for a single node"
            );
            Ok(None)
        }
        KeySource::Configured => {
            Ok(Some(DataKeyRing::parse(&storage.data_keys).context("invalid data_keys")?))
        }
        KeySource::KeyFile => {
            let file = data_keys::load_or_create(data).context("cannot use the data key file")?;
            let action = if file.created { "created" } else { "read" };
            tracing::info!(path = %file.path.display(), keys = ?file.ring.ids(), "{action} the data key file");
            Ok(Some(file.ring))
        }
    }
}

/// Runs `continuum serve` until a shutdown signal, then lets the server drain.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    #[cfg(not(feature = "fault-modes"))]
    crate::test_knobs::refuse_unbuilt_fault_mode(
        std::env::var(crate::test_knobs::FAULT_MODE_VARIABLE).ok().as_deref(),
    )?;
    let mut settings = settings(&args, process_vars())?;
    args.test.announce();
    let shutdown = crate::shutdown::on_signal().context("cannot install the signal handlers")?;
    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr().context("cannot read the bound address")?;
    tracing::info!(
        %addr,
        data = %settings.server.data_dir.display(),
        store = ?settings.store,
        dev = settings.server.dev,
        demo = settings.demo,
        "listening"
    );
    let cluster = settings.cluster.clone();
    let session_cache = settings
        .session_cache
        .map(|policy| SessionCacheOptions { policy, metrics: Arc::new(SessionCacheMetrics::default()) });
    let metrics = Arc::new(Metrics::with(|registry| {
        if let Some(cluster) = &cluster {
            cluster.metrics.register(registry);
        }
        if let Some(cache) = &session_cache {
            cache.metrics.register(registry);
        }
    }));
    let encryption = data_key_ring(&settings)?;
    let mut options = OpenOptions {
        on_commit: Some(commit_observer(&metrics)),
        cluster,
        encryption,
        session_cache,
        ..OpenOptions::default()
    };
    args.test.apply(&mut settings.server, &mut options);
    let stores = continuum_backends::open(&settings.store, &settings.server.data_dir, options)
        .await
        .context("the server failed")?;
    // The demo app is a layer above the API, mounted beside it only with --demo.
    let demo = settings.demo;
    let mounts = move |state: &continuum_server::AppState| match demo {
        true => continuum_server::demo::router(state),
        false => Default::default(),
    };
    continuum_server::run(settings.server, stores, metrics, listener, shutdown, mounts)
        .await
        .context("the server failed")?;
    tracing::info!("stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn absent_switches_do_not_override_lower_layers() {
        let layer = ServeArgs::default().layer();
        assert_eq!(layer, ConfigLayer::default());
        let layer = ServeArgs { dev: true, memory: true, ..ServeArgs::default() }.layer();
        assert_eq!((layer.dev, layer.store), (Some(true), Some(StoreKind::Memory)));
    }

    #[test]
    fn flags_env_and_file_stack_in_order() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "listen = \"127.0.0.1:1\"\ndev = true\n[sweeper]\nbatch = 3").unwrap();
        let args = ServeArgs {
            config: Some(file.path().to_owned()),
            listen: Some("127.0.0.1:3".parse().unwrap()),
            ..ServeArgs::default()
        };
        let vars = [
            ("CONTINUUM_LISTEN".to_owned(), "127.0.0.1:2".to_owned()),
            ("CONTINUUM_SWEEPER_BATCH".to_owned(), "4".to_owned()),
        ];
        let settings = settings(&args, vars).unwrap();
        assert_eq!(settings.listen.port(), 3);
        assert_eq!(settings.server.sweep_batch, 4);
        assert!(settings.server.dev);
    }

    #[test]
    fn allowed_origins_repeat_as_flags_and_replace_the_lower_layers() {
        use clap::Parser as _;
        let cli = crate::cli::Cli::try_parse_from([
            "continuum",
            "serve",
            "--allowed-origin",
            "https://a.example",
            "--allowed-origin",
            "https://b.example:8443",
        ])
        .unwrap();
        let crate::cli::Command::Serve(args) = cli.command else { panic!("parsed as serve") };
        let vars = [("CONTINUUM_ALLOWED_ORIGINS".to_owned(), "https://env.example".to_owned())];
        let origins = |settings: ServeSettings| -> Vec<String> {
            settings.server.allowed_origins.iter().map(|origin| origin.to_string()).collect()
        };
        assert_eq!(
            origins(settings(&args, vars.clone()).unwrap()),
            ["https://a.example", "https://b.example:8443"]
        );
        assert_eq!(origins(settings(&ServeArgs::default(), vars).unwrap()), ["https://env.example"]);
    }

    #[test]
    fn an_unknown_file_key_is_an_error_naming_it() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "[sessions]\nidle_secs = 5").unwrap();
        let args = ServeArgs { config: Some(file.path().to_owned()), ..ServeArgs::default() };
        let error = anyhow::Error::from(settings(&args, []).unwrap_err());
        assert!(format!("{error:#}").contains("unknown field `idle_secs`"), "{error:#}");
    }
}
