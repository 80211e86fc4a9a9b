//! [`Nodes`]: the nodes behind the gateway with their placement, health and load, shared by the
//! proxy and the health checker. The decisions are [`crate::choice`]'s and [`crate::health`]'s;
//! this holds their state.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use continuum_core::{Placement, PlacementKey};

use crate::choice::{NodeView, Plan, Preference};
use crate::config::{HealthConfig, NodeSpec};
use crate::health::{NodeHealth, Transition};
use crate::metrics::{GatewayMetrics, NodeMetrics};

/// One node and its live state.
#[derive(Debug)]
pub struct Node {
    /// Its id and address.
    pub spec: NodeSpec,
    /// Its request metrics.
    pub metrics: NodeMetrics,
    health: Mutex<NodeHealth>,
    live: AtomicBool,
    in_flight: AtomicUsize,
}

/// Every node, sorted by id (as [`Placement`] sorts them, so a ranked id's index is found by
/// binary search).
#[derive(Debug)]
pub struct Nodes {
    nodes: Vec<Node>,
    placement: Placement,
    health: HealthConfig,
    metrics: Arc<GatewayMetrics>,
    tie: AtomicUsize,
}

/// A request or socket counted as in flight on a node until dropped.
#[derive(Debug)]
pub struct InFlight<'a>(&'a Node);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Nodes {
    /// The table over `specs` (ids already checked distinct).
    pub fn new(mut specs: Vec<NodeSpec>, health: HealthConfig, metrics: Arc<GatewayMetrics>) -> Self {
        specs.sort_by(|a, b| a.id.cmp(&b.id));
        let placement = Placement::new(specs.iter().map(|spec| spec.id.clone()));
        let nodes = specs
            .into_iter()
            .map(|spec| {
                metrics.add_node(&spec.id);
                let node_metrics = metrics.node_metrics(&spec.id);
                let health = Mutex::new(NodeHealth::default());
                let (live, in_flight) = (AtomicBool::new(true), AtomicUsize::new(0));
                Node { spec, metrics: node_metrics, health, live, in_flight }
            })
            .collect();
        Self { nodes, placement, health, metrics, tie: AtomicUsize::new(0) }
    }

    /// The node at `index`.
    pub fn get(&self, index: usize) -> &Node {
        &self.nodes[index]
    }

    /// How many nodes there are.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The index of the node with id `id`.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.nodes.binary_search_by(|node| node.spec.id.as_str().cmp(id)).ok()
    }

    /// Every node index ranked for `key`, the primary first.
    pub fn ranked(&self, key: &PlacementKey) -> Vec<usize> {
        self.placement.rank(key).into_iter().filter_map(|id| self.index_of(id)).collect()
    }

    /// The plan for `preference` under the nodes' health and load now.
    pub fn plan(&self, preference: &Preference) -> Option<Plan> {
        let views: Vec<NodeView> = self
            .nodes
            .iter()
            .map(|node| NodeView {
                live: node.live.load(Ordering::Relaxed),
                in_flight: node.in_flight.load(Ordering::Relaxed),
            })
            .collect();
        let tie = self.tie.fetch_add(1, Ordering::Relaxed);
        crate::choice::plan(preference, &views, tie)
    }

    /// Counts a request as in flight on `index` until the guard drops.
    pub fn start(&self, index: usize) -> InFlight<'_> {
        let node = &self.nodes[index];
        node.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(node)
    }

    /// An active check of `index` passed or failed.
    pub fn checked(&self, index: usize, passed: bool) {
        self.apply(index, |health, config| health.check(passed, config));
    }

    /// A request to `index` failed (passive check).
    pub fn failed(&self, index: usize) {
        self.apply(index, |health, _| health.passive_failure());
    }

    fn apply(&self, index: usize, step: impl FnOnce(&mut NodeHealth, &HealthConfig) -> Option<Transition>) {
        let node = &self.nodes[index];
        // The lock is held for the step and the flag only, never across an await.
        let mut health = node.health.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(transition) = step(&mut health, &self.health) else { return };
        let live = transition == Transition::Readmitted;
        node.live.store(live, Ordering::Relaxed);
        drop(health);
        self.metrics.set_live(&node.spec.id, live);
        match transition {
            Transition::Ejected => tracing::warn!(node = %node.spec.id, "node ejected"),
            Transition::Readmitted => tracing::info!(node = %node.spec.id, "node re-admitted"),
        }
    }

    /// The health settings.
    pub fn health(&self) -> &HealthConfig {
        &self.health
    }
}
