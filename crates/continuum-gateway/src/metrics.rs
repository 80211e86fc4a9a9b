//! [`GatewayMetrics`]: what the gateway counts — requests per node, failovers, ejections,
//! retries, upstream latency — and their text exposition at the gateway's `/metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NodeLabels {
    node: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    node: String,
    outcome: &'static str,
}

fn latency_histogram() -> Histogram {
    // 50 µs to about 1.6 s, as the nodes' own request histogram.
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// How a request sent to a node ended, as the `outcome` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The node answered (any status).
    Answered,
    /// No connection could be made.
    ConnectError,
    /// The connection broke after the request was sent.
    Broken,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::ConnectError => "connect_error",
            Outcome::Broken => "broken",
        }
    }
}

/// One node's request metrics (handles into [`GatewayMetrics`]' families).
#[derive(Clone, Debug)]
pub struct NodeMetrics {
    answered: Counter,
    connect_error: Counter,
    broken: Counter,
    latency: Histogram,
}

impl NodeMetrics {
    /// A request to the node ended with `outcome` after `seconds`.
    pub fn record(&self, outcome: Outcome, seconds: f64) {
        match outcome {
            Outcome::Answered => {
                self.answered.inc();
                self.latency.observe(seconds);
            }
            Outcome::ConnectError => {
                self.connect_error.inc();
            }
            Outcome::Broken => {
                self.broken.inc();
            }
        }
    }
}

/// The gateway's metrics, all prefixed `continuum_gateway_`.
pub struct GatewayMetrics {
    registry: Registry,
    requests: Family<OutcomeLabels, Counter>,
    latency: Family<NodeLabels, Histogram, fn() -> Histogram>,
    failovers: Counter,
    retries: Counter,
    ejections: Family<NodeLabels, Counter>,
    readmissions: Family<NodeLabels, Counter>,
    live: Family<NodeLabels, Gauge>,
    sockets: Gauge,
    sockets_closed_by_node_loss: Counter,
}

impl std::fmt::Debug for GatewayMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayMetrics").finish_non_exhaustive()
    }
}

impl Default for GatewayMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl GatewayMetrics {
    /// A registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("continuum_gateway");
        let requests = Family::<OutcomeLabels, Counter>::default();
        registry.register("upstream_requests", "Requests sent to each node, by outcome", requests.clone());
        let latency =
            Family::<NodeLabels, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        registry.register(
            "upstream_duration_seconds",
            "Time from sending a request to a node to its answer's header",
            latency.clone(),
        );
        let failovers = Counter::default();
        registry.register(
            "failovers",
            "Requests sent to a key's next owner because its preferred node was ejected",
            failovers.clone(),
        );
        let retries = Counter::default();
        registry.register(
            "retries",
            "Requests sent again to the next owner after a connect error",
            retries.clone(),
        );
        let ejections = Family::<NodeLabels, Counter>::default();
        registry.register("ejections", "Times a node was ejected by the health checks", ejections.clone());
        let readmissions = Family::<NodeLabels, Counter>::default();
        registry.register(
            "readmissions",
            "Times an ejected node passed its checks again",
            readmissions.clone(),
        );
        let live = Family::<NodeLabels, Gauge>::default();
        registry.register("node_live", "1 while a node receives requests, 0 while ejected", live.clone());
        let sockets = Gauge::default();
        registry.register("websockets", "WebSockets relayed now", sockets.clone());
        let sockets_closed_by_node_loss = Counter::default();
        registry.register(
            "websockets_node_lost",
            "WebSockets closed with 1012 because their node went away",
            sockets_closed_by_node_loss.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            failovers,
            retries,
            ejections,
            readmissions,
            live,
            sockets,
            sockets_closed_by_node_loss,
        }
    }

    fn node(node: &str) -> NodeLabels {
        NodeLabels { node: node.to_owned() }
    }

    /// `node`'s request counters and latency histogram, created once so that recording one
    /// takes no family lookup and allocates nothing.
    pub fn node_metrics(&self, node: &str) -> NodeMetrics {
        let counter = |outcome: Outcome| {
            self.requests
                .get_or_create(&OutcomeLabels { node: node.to_owned(), outcome: outcome.label() })
                .clone()
        };
        NodeMetrics {
            answered: counter(Outcome::Answered),
            connect_error: counter(Outcome::ConnectError),
            broken: counter(Outcome::Broken),
            latency: self.latency.get_or_create(&Self::node(node)).clone(),
        }
    }

    /// Shows `node` as live before any check ran.
    pub fn add_node(&self, node: &str) {
        self.live.get_or_create(&Self::node(node)).set(1);
    }

    /// A request went to a key's next owner.
    pub fn failover(&self) {
        self.failovers.inc();
    }

    /// A request was sent again after a connect error.
    pub fn retry(&self) {
        self.retries.inc();
    }

    /// `node` was ejected (`false`) or re-admitted (`true`).
    pub fn set_live(&self, node: &str, live: bool) {
        let labels = Self::node(node);
        self.live.get_or_create(&labels).set(i64::from(live));
        match live {
            true => self.readmissions.get_or_create(&labels).inc(),
            false => self.ejections.get_or_create(&labels).inc(),
        };
    }

    /// A relayed WebSocket opened (`1`) or closed (`-1`).
    pub fn socket(&self, delta: i64) {
        self.sockets.inc_by(delta);
    }

    /// A relayed WebSocket was closed because its node went away.
    pub fn socket_node_lost(&self) {
        self.sockets_closed_by_node_loss.inc();
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
