//! [`Deployment`]: a strategy's processes running in a [`Lab`] — its nodes, each in its own
//! network namespace, the gateway and the store where the strategy has them — and the faults
//! carried out on them.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use continuum_client::{BearerKey, Endpoint, requests};

use super::caller::{Caller, Route};
use super::schedule::Action;
use super::strategy::{Routing, Storage, Strategy};
use crate::lab::{
    ForwardError, Forwarder, Lab, LabError, PostgresServer, Process, ProcessError, ProcessSpec, RedisServer,
    ServiceError, wait_http_ready,
};

/// The port every node listens on for HTTP, on its own host address.
const HTTP_PORT: u16 = 7878;
/// The port every replicated node gossips and replicates on.
const CLUSTER_PORT: u16 = 7001;
/// The gateway's port, on the lab's client address.
const GATEWAY_PORT: u16 = 7000;
/// How long a node or gateway may take to answer `/readyz` after a start.
const READY: Duration = Duration::from_secs(30);
/// How long a node may take to stop on SIGTERM before it is killed.
const STOP: Duration = Duration::from_secs(5);

/// What a deployment needs beyond its strategy.
#[derive(Clone, Debug)]
pub struct DeployConfig {
    /// The `continuum` binary.
    pub bin: PathBuf,
    /// Data and logs go here.
    pub dir: PathBuf,
    /// `--fault-mode` for every node (a binary built with the `fault-modes` feature).
    pub fault_mode: Option<String>,
    /// How many workload clients there will be (each gets its own source address).
    pub clients: usize,
}

/// Why a deployment could not start or carry out a fault.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The lab (namespaces, tc) failed.
    #[error(transparent)]
    Lab(#[from] LabError),
    /// A node or the gateway could not be started, signalled or stopped.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// Redis or PostgreSQL could not be started or restarted.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The forwarder to the store could not start.
    #[error(transparent)]
    Forward(#[from] ForwardError),
    /// A directory for a store could not be made.
    #[error("cannot create {dir}")]
    Dir {
        /// The directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A node or the gateway did not become ready.
    #[error("{what} did not answer /readyz within {READY:?} (its log: {log})")]
    NotReady {
        /// Which process.
        what: String,
        /// Its log file.
        log: String,
    },
}

/// The shared store of a strategy that has one.
enum Store {
    Redis(RedisServer, Forwarder),
    Postgres(PostgresServer, Forwarder),
}

/// A running strategy.
pub struct Deployment {
    strategy: Strategy,
    config: DeployConfig,
    lab: Lab,
    key: BearerKey,
    node_args: Vec<Vec<String>>,
    env: Vec<(String, String)>,
    nodes: Vec<Process>,
    gateway: Option<Process>,
    store: Option<Store>,
    routes: Arc<Vec<Route>>,
    sources: Vec<IpAddr>,
}

impl Deployment {
    /// Starts `strategy`: the lab, the store, the nodes, the gateway; returns once every one of
    /// them answers `/readyz`.
    pub async fn start(strategy: Strategy, config: &DeployConfig) -> Result<Self, DeployError> {
        let mut lab = Lab::create(strategy.nodes()).await?;
        let sources = lab.add_client_addresses(config.clients).await?.into_iter().map(IpAddr::V4).collect();
        let api_key = format!("ck_faults_{:016x}", fastrand::u64(..));
        let key = BearerKey::new(&api_key).expect("a generated key is a valid header");
        let sealing = format!("sk_{}", base64url(&random_bytes()));
        let data = format!("dk_{}", base64url(&random_bytes()));
        let env = vec![
            ("CONTINUUM_API_KEY".to_owned(), api_key),
            ("CONTINUUM_SEALING_KEYS".to_owned(), sealing),
            ("CONTINUUM_DATA_KEYS".to_owned(), data),
            ("CONTINUUM_LOG".to_owned(), "info".to_owned()),
        ];
        let store = start_store(strategy, &lab, config).await?;
        let store_arg = match (&store, strategy.storage()) {
            (Some(Store::Redis(_, forward)), _) => Some(format!("redis://{}", forward.local_addr())),
            (Some(Store::Postgres(_, forward)), _) => {
                Some(format!("postgres://postgres@{}/continuum", forward.local_addr()))
            }
            (None, Storage::Replicated(_)) => Some("replicated".to_owned()),
            (None, _) => None,
        };
        let mut node_args = Vec::new();
        for i in 0..strategy.nodes() {
            let mut args = vec![
                "serve".to_owned(),
                "--listen".to_owned(),
                SocketAddr::new(lab.host_ip(i).into(), HTTP_PORT).to_string(),
                "--data".to_owned(),
                config.dir.join(format!("n{i}")).display().to_string(),
                "--dev".to_owned(),
            ];
            if let Some(store) = &store_arg {
                args.extend(["--store".to_owned(), store.clone()]);
            }
            if let Storage::Replicated(replicas) = strategy.storage() {
                let peers: Vec<String> = (0..strategy.nodes())
                    .filter(|j| *j != i)
                    .map(|j| SocketAddr::new(lab.host_ip(j).into(), CLUSTER_PORT).to_string())
                    .collect();
                args.extend([
                    "--node-id".to_owned(),
                    format!("n{i}"),
                    "--cluster-listen".to_owned(),
                    SocketAddr::new(lab.host_ip(i).into(), CLUSTER_PORT).to_string(),
                    "--peers".to_owned(),
                    peers.join(","),
                    "--replicas".to_owned(),
                    replicas.map_or_else(|| "all".to_owned(), |k| k.to_string()),
                ]);
            }
            if let Some(mode) = &config.fault_mode {
                args.extend(["--fault-mode".to_owned(), mode.clone()]);
            }
            node_args.push(args);
        }
        let mut deployment = Self {
            strategy,
            config: config.clone(),
            lab,
            key,
            node_args,
            env,
            nodes: Vec::new(),
            gateway: None,
            store,
            routes: Arc::new(Vec::new()),
            sources,
        };
        for i in 0..strategy.nodes() {
            let node = deployment.spawn_node(i, &[]).await?;
            deployment.nodes.push(node);
        }
        for i in 0..strategy.nodes() {
            deployment.wait_node(i).await?;
        }
        deployment.start_gateway().await?;
        Ok(deployment)
    }

    /// The backend plane's key.
    pub fn key(&self) -> &BearerKey {
        &self.key
    }

    /// Where clients send requests: every node, or the gateway.
    pub fn routes(&self) -> &Arc<Vec<Route>> {
        &self.routes
    }

    /// A caller for client `client`, from its own source address.
    pub fn caller(&self, client: usize, timeout: Duration, bytes: Arc<AtomicU64>) -> Caller {
        let caller = Caller::new(Arc::clone(&self.routes), timeout, bytes);
        match self.sources.get(client % self.sources.len().max(1)) {
            Some(source) => caller.from_source(*source),
            None => caller,
        }
    }

    /// The nodes' resident memory, summed, bytes.
    pub async fn rss_total(&self) -> u64 {
        let mut total = 0;
        for node in &self.nodes {
            total += node.rss_bytes().await.unwrap_or(0);
        }
        total
    }

    /// Bytes between nodes (replication's counters, summed) or between nodes and the store
    /// (the forwarder's), so far.
    pub async fn backend_bytes(&self) -> u64 {
        match &self.store {
            Some(Store::Redis(_, forward) | Store::Postgres(_, forward)) => forward.bytes(),
            None if matches!(self.strategy.storage(), Storage::Replicated(_)) => {
                let mut total = 0;
                for i in 0..self.nodes.len() {
                    total +=
                        self.node_metric(i, "continuum_replication_sent_bytes_total").await.unwrap_or(0.0)
                            as u64;
                }
                total
            }
            None => 0,
        }
    }

    /// Carries out one step of the schedule.
    pub async fn apply(&mut self, action: Action) -> Result<(), DeployError> {
        match action {
            Action::Kill(n) => {
                self.nodes[n].kill().await?;
            }
            Action::Restart(n) => self.nodes[n].restart().await?,
            Action::Pause(n) => self.nodes[n].pause().await?,
            Action::Resume(n) => self.nodes[n].resume().await?,
            Action::Isolate(n) => self.lab.isolate(n).await?,
            Action::Cut(a, b) => self.lab.cut(a, b).await?,
            Action::Delay(n, ms) => {
                // Half each way, so a round trip between the node and a peer grows by `ms`.
                let half = u32::try_from(ms / 2).unwrap_or(u32::MAX);
                for other in (0..self.nodes.len()).filter(|other| *other != n) {
                    self.lab.delay(n, other, half).await?;
                    self.lab.delay(other, n, half).await?;
                }
                if self.store.is_some() {
                    self.lab.delay_service(n, half.saturating_mul(2)).await?;
                }
            }
            Action::Heal => self.lab.heal().await?,
            Action::RestartStore => match &mut self.store {
                Some(Store::Redis(server, _)) => server.restart().await?,
                Some(Store::Postgres(server, _)) => server.restart().await?,
                None => {}
            },
            Action::Skew(n, ms) => {
                self.nodes[n].stop(STOP).await?;
                self.nodes[n] = self.spawn_node(n, &[format!("--clock-skew-ms={ms}")]).await?;
            }
            Action::Unskew(n) => {
                self.nodes[n].stop(STOP).await?;
                self.nodes[n] = self.spawn_node(n, &[]).await?;
                self.wait_node(n).await?;
            }
        }
        Ok(())
    }

    /// Undoes whatever fault is left and waits until every node and the gateway answer again.
    pub async fn settle(&mut self) -> Result<(), DeployError> {
        self.lab.heal().await?;
        for i in 0..self.nodes.len() {
            let _ = self.nodes[i].resume().await;
            if !self.nodes[i].is_running() {
                self.nodes[i].restart().await?;
            }
        }
        for i in 0..self.nodes.len() {
            self.wait_node(i).await?;
        }
        if let Some(gateway) = &self.gateway {
            let addr = SocketAddr::new(self.lab.client_ip().into(), GATEWAY_PORT);
            wait_ready("the gateway", gateway, addr).await?;
        }
        // Replication's catch-up and the gateway's health checks settle within a second or two.
        tokio::time::sleep(Duration::from_secs(2)).await;
        Ok(())
    }

    /// Stops everything (also done on drop, less politely).
    pub async fn close(mut self) {
        if let Some(gateway) = &mut self.gateway {
            let _ = gateway.stop(STOP).await;
        }
        for node in &mut self.nodes {
            let _ = node.stop(STOP).await;
        }
        let _ = self.lab.close().await;
    }

    async fn spawn_node(&self, i: usize, extra: &[String]) -> Result<Process, DeployError> {
        let log = self.config.dir.join(format!("n{i}.log"));
        let mut spec = ProcessSpec::new(&self.config.bin, log)
            .in_netns(self.lab.netns(i))
            .args(&self.node_args[i])
            .args(extra);
        for (name, value) in &self.env {
            spec = spec.env(name, value);
        }
        Ok(Process::start(spec).await?)
    }

    async fn wait_node(&self, i: usize) -> Result<(), DeployError> {
        let addr = SocketAddr::new(self.lab.host_ip(i).into(), HTTP_PORT);
        wait_ready(&format!("node n{i}"), &self.nodes[i], addr).await
    }

    async fn start_gateway(&mut self) -> Result<(), DeployError> {
        let affinity = match self.strategy.routing() {
            Routing::AnyNode => {
                let routes = (0..self.nodes.len())
                    .map(|i| route(format!("n{i}"), SocketAddr::new(self.lab.host_ip(i).into(), HTTP_PORT)))
                    .collect();
                self.routes = Arc::new(routes);
                return Ok(());
            }
            Routing::GatewayBySid => "sid",
            Routing::GatewayByIp => "ip",
        };
        let nodes: Vec<String> = (0..self.nodes.len())
            .map(|i| format!("n{i}=http://{}", SocketAddr::new(self.lab.host_ip(i).into(), HTTP_PORT)))
            .collect();
        let addr = SocketAddr::new(self.lab.client_ip().into(), GATEWAY_PORT);
        let spec = ProcessSpec::new(&self.config.bin, self.config.dir.join("gateway.log"))
            .args([
                "gateway",
                "--listen",
                &addr.to_string(),
                "--nodes",
                &nodes.join(","),
                "--affinity",
                affinity,
            ])
            .env("CONTINUUM_LOG", "info");
        let gateway = Process::start(spec).await?;
        wait_ready("the gateway", &gateway, addr).await?;
        self.gateway = Some(gateway);
        self.routes = Arc::new(vec![route("gw".to_owned(), addr)]);
        Ok(())
    }

    async fn node_metric(&self, i: usize, name: &str) -> Option<f64> {
        let addr = SocketAddr::new(self.lab.host_ip(i).into(), HTTP_PORT);
        let endpoint = Endpoint::parse(&format!("http://{addr}")).ok()?;
        let mut connection = continuum_client::Connection::open(&endpoint).await.ok()?;
        let request = requests::get("/metrics", Some(&self.key));
        let response =
            tokio::time::timeout(Duration::from_secs(2), connection.send(request)).await.ok()?.ok()?;
        let text = String::from_utf8_lossy(response.body()).into_owned();
        text.lines().find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
    }
}

async fn start_store(
    strategy: Strategy,
    lab: &Lab,
    config: &DeployConfig,
) -> Result<Option<Store>, DeployError> {
    let dir = config.dir.join("store");
    std::fs::create_dir_all(&dir).map_err(|source| DeployError::Dir { dir: dir.clone(), source })?;
    Ok(match strategy.storage() {
        Storage::Redis => {
            let server = RedisServer::start(&dir).await?;
            let forward =
                Forwarder::start(SocketAddr::new(lab.service_ip().into(), 0), server.addr()).await?;
            Some(Store::Redis(server, forward))
        }
        Storage::Postgres => {
            let server = PostgresServer::start(&dir).await?;
            let forward =
                Forwarder::start(SocketAddr::new(lab.service_ip().into(), 0), server.addr()).await?;
            Some(Store::Postgres(server, forward))
        }
        _ => None,
    })
}

async fn wait_ready(what: &str, process: &Process, addr: SocketAddr) -> Result<(), DeployError> {
    wait_http_ready(addr, "/readyz", READY).await.map_err(|_| DeployError::NotReady {
        what: what.to_owned(),
        log: process.spec().log().display().to_string(),
    })
}

fn route(name: String, addr: SocketAddr) -> Route {
    Route { name, endpoint: Endpoint::parse(&format!("http://{addr}")).expect("an address is a valid URL") }
}

fn random_bytes() -> [u8; 32] {
    let mut bytes = [0u8; 32];
    for byte in &mut bytes {
        *byte = fastrand::u8(..);
    }
    bytes
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
