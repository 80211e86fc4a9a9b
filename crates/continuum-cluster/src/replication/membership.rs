//! [`Membership`]: who is live, from `chitchat` (gossip with phi-accrual failure detection),
//! turned into this node's [`View`].
//!
//! Each node gossips on its `--cluster-listen` address (UDP) and publishes its wire version
//! there; replication uses the same port over TCP. A node that speaks another wire version is
//! left out of the view (and logged), never misread.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chitchat::transport::Transport;
use chitchat::{Chitchat, ChitchatConfig, ChitchatHandle, ChitchatId, FailureDetectorConfig, NodeState};
use continuum_store::DataLoss;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::adopted::Adopted;
use super::error::ReplicationError;
use super::holdings::{Holdings, unavailable};
use super::metrics::ReplicationMetrics;
use super::view::{Member, View};
use super::wire::WIRE_VERSION;

/// The key under which a node publishes its wire version.
const WIRE_KEY: &str = "continuum.wire";
/// The key under which a node publishes its [`Holdings`].
pub(crate) const HOLDINGS_KEY: &str = "continuum.holdings";
/// The key under which a node publishes the fingerprint of the view its last finished
/// transfer handed keys over for.
pub(crate) const TRANSFERRED_KEY: &str = "continuum.transferred";
/// The key under which a node publishes the fingerprint of its current view: a write is taken
/// only while every member publishes the writer's (see `ReplicaNode::views_agreed`).
pub(crate) const VIEW_KEY: &str = "continuum.view";

/// How membership is gossiped.
#[derive(Clone, Debug)]
pub struct MembershipConfig {
    /// This node's id.
    pub node_id: String,
    /// The cluster's name: nodes of another cluster are not peers.
    pub cluster: String,
    /// Gossip (UDP) and replication (TCP) address.
    pub listen: SocketAddr,
    /// Other nodes to contact first.
    pub peers: Vec<SocketAddr>,
    /// How often a node gossips.
    pub gossip_interval: Duration,
    /// The phi-accrual threshold above which a silent node is taken for dead.
    pub phi_threshold: f64,
}

/// The running membership: its gossip task and the view it maintains.
pub struct Membership {
    handle: ChitchatHandle,
    view: watch::Receiver<Arc<View>>,
    loss: watch::Receiver<DataLoss>,
    transferred: watch::Receiver<HashMap<String, u64>>,
    peer_views: watch::Receiver<HashMap<String, u64>>,
    adopted: Arc<Adopted>,
}

impl Membership {
    /// Starts gossiping on `config.listen` through `transport` (UDP in production; a transport
    /// that drops packets to inject a partition in tests). The view's task ends with `cancel`.
    pub async fn start(
        config: &MembershipConfig,
        transport: &dyn Transport,
        metrics: Arc<ReplicationMetrics>,
        tasks: &TaskTracker,
        cancel: CancellationToken,
    ) -> Result<Self, ReplicationError> {
        let generation =
            SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis() as u64);
        let chitchat_id = ChitchatId::new(config.node_id.clone(), generation, config.listen);
        let failure_detector_config = FailureDetectorConfig {
            phi_threshold: config.phi_threshold,
            initial_interval: config.gossip_interval,
            ..FailureDetectorConfig::default()
        };
        let chitchat_config = ChitchatConfig {
            chitchat_id,
            cluster_id: config.cluster.clone(),
            gossip_interval: config.gossip_interval,
            listen_addr: config.listen,
            seed_nodes: config.peers.iter().map(ToString::to_string).collect(),
            failure_detector_config,
            marked_for_deletion_grace_period: Duration::from_secs(3600),
            catchup_callback: None,
            extra_liveness_predicate: None,
            protocol_version: chitchat::ProtocolVersion::V0,
        };
        let initial = vec![(WIRE_KEY.to_owned(), WIRE_VERSION.to_string())];
        let handle = chitchat::spawn_chitchat(chitchat_config, initial, transport)
            .await
            .map_err(|error| ReplicationError::Membership(format!("{error:#}")))?;
        let me = Member { id: config.node_id.clone(), peer_addr: config.listen };
        // Quorum is counted against the configured cluster (this node and its seeds) or the most
        // nodes ever seen live, whichever is larger; never against a view shrunk by failures.
        let configured: HashSet<SocketAddr> = config.peers.iter().copied().chain([config.listen]).collect();
        let mut expected = configured.len();
        let first = Arc::new(View::new(vec![me.clone()], expected));
        let adopted = Arc::new(Adopted::default());
        adopted.note(&first);
        handle.chitchat().lock().await.self_node_state().set(VIEW_KEY, first.fingerprint());
        let (sender, view) = watch::channel(first);
        let (chitchat, noted) = (handle.chitchat(), Arc::clone(&adopted));
        let mut live = handle.chitchat().lock().await.live_nodes_watcher();
        let (loss_sender, loss) = watch::channel(DataLoss::default());
        let (transferred_sender, transferred) = watch::channel(HashMap::new());
        let (views_sender, peer_views) = watch::channel(HashMap::new());
        // Every node's last published holdings, kept after it leaves: what it owned is what the
        // survivors may have lost with it.
        let mut known: HashMap<String, Holdings> = HashMap::new();
        tasks.spawn(async move {
            loop {
                let states = live.borrow_and_update().clone();
                for (id, state) in &states {
                    if let Some(text) = state.get(HOLDINGS_KEY) {
                        known.insert(id.node_id.to_string(), Holdings::decode(text));
                    }
                }
                publish_numbers(&transferred_sender, &states, TRANSFERRED_KEY);
                publish_numbers(&views_sender, &states, VIEW_KEY);
                let members = members_of(&states, &me);
                let live_ids: BTreeSet<String> = members.iter().map(|member| member.id.clone()).collect();
                let in_cluster: u64 = known
                    .iter()
                    .filter(|(node, _)| live_ids.contains(*node))
                    .flat_map(|(_, holdings)| holdings.0.values())
                    .map(|counts| counts.sessions)
                    .sum();
                metrics.cluster_sessions.set(in_cluster as i64);
                report_loss(&loss_sender, unavailable(&known, &live_ids), &metrics);
                expected = expected.max(members.len());
                metrics.members.set(members.len() as i64);
                let next = View::new(members, expected);
                if next.fingerprint() != sender.borrow().fingerprint() {
                    tracing::info!(
                        members = ?next.members().iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
                        expected = next.expected(),
                        quorum = next.has_quorum(),
                        "the cluster's membership changed"
                    );
                    let next = Arc::new(next);
                    noted.note(&next);
                    chitchat.lock().await.self_node_state().set(VIEW_KEY, next.fingerprint());
                    sender.send_replace(next);
                }
                tokio::select! {
                    () = cancel.cancelled() => break,
                    changed = live.changed() => if changed.is_err() { break },
                }
            }
        });
        Ok(Self { handle, view, loss, transferred, peer_views, adopted })
    }

    /// For each live node, the fingerprint of its current view.
    pub fn peer_views(&self) -> watch::Receiver<HashMap<String, u64>> {
        self.peer_views.clone()
    }

    /// The views this node took since its copies were last settled (noted as each is made).
    pub fn adopted(&self) -> Arc<Adopted> {
        Arc::clone(&self.adopted)
    }

    /// What no live node holds any more, from every node's published holdings.
    pub fn loss(&self) -> watch::Receiver<DataLoss> {
        self.loss.clone()
    }

    /// For each live node, the fingerprint of the view its last finished transfer was for.
    pub fn transferred(&self) -> watch::Receiver<HashMap<String, u64>> {
        self.transferred.clone()
    }

    /// The membership state, where this node publishes its holdings.
    pub fn chitchat(&self) -> Arc<tokio::sync::Mutex<Chitchat>> {
        self.handle.chitchat()
    }

    /// The view, updated as members come and go.
    pub fn view(&self) -> watch::Receiver<Arc<View>> {
        self.view.clone()
    }

    /// Stops gossiping (the others see this node leave once their failure detector says so).
    pub async fn shutdown(self) {
        if let Err(error) = self.handle.shutdown().await {
            tracing::debug!(error = %format!("{error:#}"), "membership stopped with an error");
        }
    }
}

/// Publishes, when it changed, each live node's number under `key`.
fn publish_numbers(
    sender: &watch::Sender<HashMap<String, u64>>,
    states: &BTreeMap<ChitchatId, NodeState>,
    key: &str,
) {
    let numbers: HashMap<String, u64> = states
        .iter()
        .filter_map(|(id, state)| Some((id.node_id.to_string(), state.get(key)?.parse().ok()?)))
        .collect();
    sender.send_if_modified(|held| {
        let changed = *held != numbers;
        *held = numbers;
        changed
    });
}

/// Publishes a changed loss: the log line, the gauges, the watch the server reports from.
fn report_loss(sender: &watch::Sender<DataLoss>, loss: DataLoss, metrics: &ReplicationMetrics) {
    if *sender.borrow() == loss {
        return;
    }
    metrics.unavailable_sessions.set(loss.sessions as i64);
    metrics.unavailable_documents.set(loss.documents as i64);
    if loss.is_empty() {
        tracing::info!("every key has a live owner again");
    } else {
        metrics.losses.inc();
        tracing::error!(
            sessions = loss.sessions,
            documents = loss.documents,
            nodes = ?loss.nodes,
            "more than the replicated copies of some keys are gone: every node holding them left; they are unavailable until one of those nodes returns with its data"
        );
    }
    sender.send_replace(loss);
}

/// The live nodes that speak this wire version, and this node; each node once. A node that
/// restarted is live under two generations until the old one is declared dead: the newer one
/// (chitchat orders ids by node, then generation) stands for it. Counted twice, it made the
/// expected size of a three-node cluster four, and a quorum three of those four (a long fault
/// run saw it after a restart).
fn members_of(live: &BTreeMap<ChitchatId, NodeState>, me: &Member) -> Vec<Member> {
    let mut others: BTreeMap<String, Member> = BTreeMap::new();
    for (id, state) in live {
        if *id.node_id == *me.id {
            continue;
        }
        match state.get(WIRE_KEY) {
            Some(version) if version == WIRE_VERSION.to_string() => {
                let member = Member { id: id.node_id.to_string(), peer_addr: id.gossip_advertise_addr };
                others.insert(member.id.clone(), member);
            }
            other => tracing::warn!(
                node = %id.node_id,
                version = ?other,
                "left a node out of the cluster: it speaks another wire version (this node speaks {WIRE_VERSION})"
            ),
        }
    }
    let mut members = vec![me.clone()];
    members.extend(others.into_values());
    members
}
