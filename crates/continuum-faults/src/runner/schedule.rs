//! The fault schedule of a run, decided without I/O: which fault, on which node, when.

use std::time::Duration;

use serde::Serialize;

use super::strategy::{Storage, Strategy};

/// A kind of fault, as the report names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// SIGKILL of a node, restarted after the fault's duration.
    Kill,
    /// SIGSTOP of a node (a long GC pause), SIGCONT after the duration.
    Pause,
    /// A node cut off from its peers and its store (not from clients) for the duration.
    Partition,
    /// Two nodes cut from each other, each still reaching the others, the store and the
    /// clients: a partition that is not a clean split (each side of it sees the third node).
    Split,
    /// Added latency between a node and its peers or store for the duration.
    Latency,
    /// The store process (Redis or PostgreSQL) restarted.
    StoreRestart,
    /// A node restarted with its clock ahead, until the end of the faults.
    ClockSkew,
}

impl FaultKind {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Kill => "kill",
            FaultKind::Pause => "pause",
            FaultKind::Partition => "partition",
            FaultKind::Split => "split",
            FaultKind::Latency => "latency",
            FaultKind::StoreRestart => "store-restart",
            FaultKind::ClockSkew => "clock-skew",
        }
    }
}

/// What the runner does at a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// SIGKILL node `n`.
    Kill(usize),
    /// Start node `n` again on its data.
    Restart(usize),
    /// SIGSTOP node `n`.
    Pause(usize),
    /// SIGCONT node `n`.
    Resume(usize),
    /// Cut node `n` from every peer and from the store.
    Isolate(usize),
    /// Cut nodes `a` and `b` from each other only.
    Cut(usize, usize),
    /// Add `ms` of latency between node `n` and its peers and store.
    Delay(usize, u64),
    /// Remove every network fault.
    Heal,
    /// Restart the store process.
    RestartStore,
    /// Restart node `n` with its clock `ms` ahead.
    Skew(usize, i64),
    /// Restart node `n` with its clock right again.
    Unskew(usize),
}

/// One step: do `action` at `at` after the workload began.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// When, from the start of the workload.
    pub at: Duration,
    /// What.
    pub action: Action,
}

/// The interval a fault was in force, for attributing what went wrong to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Window {
    /// Which fault.
    pub fault: FaultKind,
    /// The node it hit (none for the store).
    pub node: Option<usize>,
    /// When it began, from the start of the workload.
    pub start: Duration,
    /// When it was undone.
    pub end: Duration,
}

/// How long faults last and how far apart they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pace {
    /// The workload runs this long before the first fault.
    pub warmup: Duration,
    /// How long each fault is in force.
    pub fault: Duration,
    /// Quiet time after each fault is undone.
    pub gap: Duration,
    /// Latency added by the latency fault.
    pub latency_ms: u64,
    /// How far ahead the skewed clock runs.
    pub skew_ms: i64,
}

/// The schedule of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The steps, in time order.
    pub steps: Vec<Step>,
    /// Each fault's window.
    pub windows: Vec<Window>,
    /// When the workload stops.
    pub end: Duration,
}

/// The faults that apply to `strategy`, in the order they are injected.
pub fn faults_for(strategy: Strategy) -> Vec<FaultKind> {
    let mut faults = vec![FaultKind::Kill, FaultKind::Pause];
    let networked = strategy.nodes() > 1 && strategy.storage() != Storage::OwnRedbPerNode;
    if networked {
        faults.extend([FaultKind::Partition, FaultKind::Latency]);
        if strategy.nodes() > 2 {
            faults.push(FaultKind::Split);
        }
    }
    if strategy.has_store_process() {
        faults.push(FaultKind::StoreRestart);
    }
    faults.push(FaultKind::ClockSkew);
    faults
}

/// Each fault of `strategy` once, one after another, hitting node `(seed + i) % nodes`.
pub fn schedule(strategy: Strategy, pace: Pace, seed: u64) -> Schedule {
    let nodes = strategy.nodes() as u64;
    let mut steps = Vec::new();
    let mut windows = Vec::new();
    let mut at = pace.warmup;
    for (i, fault) in faults_for(strategy).into_iter().enumerate() {
        let node = ((seed + i as u64) % nodes) as usize;
        let end = at + pace.fault;
        let (begin, undo, target) = match fault {
            FaultKind::Kill => (Action::Kill(node), Action::Restart(node), Some(node)),
            FaultKind::Pause => (Action::Pause(node), Action::Resume(node), Some(node)),
            FaultKind::Partition => (Action::Isolate(node), Action::Heal, Some(node)),
            FaultKind::Split => {
                let other = (node + 1) % nodes as usize;
                (Action::Cut(node, other), Action::Heal, Some(node))
            }
            FaultKind::Latency => (Action::Delay(node, pace.latency_ms), Action::Heal, Some(node)),
            FaultKind::StoreRestart => (Action::RestartStore, Action::RestartStore, None),
            FaultKind::ClockSkew => (Action::Skew(node, pace.skew_ms), Action::Unskew(node), Some(node)),
        };
        steps.push(Step { at, action: begin });
        if fault != FaultKind::StoreRestart {
            steps.push(Step { at: end, action: undo });
        }
        windows.push(Window { fault, node: target, start: at, end });
        at = end + pace.gap;
    }
    Schedule { steps, windows, end: at }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pace() -> Pace {
        Pace {
            warmup: Duration::from_secs(2),
            fault: Duration::from_secs(3),
            gap: Duration::from_secs(1),
            latency_ms: 100,
            skew_ms: 90_000,
        }
    }

    #[test]
    fn every_fault_is_undone_before_the_next_begins_and_the_run_ends_after_the_last() {
        for strategy in Strategy::ALL {
            let plan = schedule(strategy, pace(), 7);
            assert_eq!(plan.windows.len(), faults_for(strategy).len());
            for pair in plan.windows.windows(2) {
                assert!(pair[0].end < pair[1].start, "{strategy}: {pair:?}");
            }
            assert!(plan.end > plan.windows.last().unwrap().end);
            assert!(plan.steps.windows(2).all(|pair| pair[0].at <= pair[1].at), "{strategy}");
            for window in &plan.windows {
                assert!(window.node.is_none_or(|node| node < strategy.nodes()));
            }
        }
    }

    #[test]
    fn store_faults_only_where_there_is_a_store_and_network_faults_only_between_nodes() {
        assert!(!faults_for(Strategy::Redb).contains(&FaultKind::Partition));
        assert!(!faults_for(Strategy::Redb).contains(&FaultKind::StoreRestart));
        assert!(faults_for(Strategy::Postgres).contains(&FaultKind::StoreRestart));
        assert!(faults_for(Strategy::ReplicatedOne).contains(&FaultKind::Partition));
        assert!(!faults_for(Strategy::ReplicatedOne).contains(&FaultKind::StoreRestart));
        assert!(!faults_for(Strategy::AffinityIp).contains(&FaultKind::Partition));
        assert!(faults_for(Strategy::ReplicatedAll).contains(&FaultKind::Split));
        assert!(!faults_for(Strategy::Redb).contains(&FaultKind::Split));
    }

    #[test]
    fn the_seed_moves_the_faults_between_nodes() {
        let nodes = |seed| -> Vec<Option<usize>> {
            schedule(Strategy::ReplicatedOne, pace(), seed).windows.iter().map(|w| w.node).collect()
        };
        assert_ne!(nodes(0), nodes(1));
    }
}
