//! [`DataLoss`]: what a store cannot serve because every node holding it is gone — how a
//! replicated store tells the server that more than `k` owners of some keys failed at once.

/// Keys no live node holds: their owners all left together (more than `k` of them), so the
/// store answers for them as if they never existed until one of those nodes comes back with
/// its data. All zero when nothing is missing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataLoss {
    /// Sessions (tombstones included) that no live node holds.
    pub sessions: u64,
    /// Documents that no live node holds.
    pub documents: u64,
    /// The departed nodes that held them, sorted.
    pub nodes: Vec<String>,
}

impl DataLoss {
    /// Whether anything is missing.
    pub fn is_empty(&self) -> bool {
        self.sessions == 0 && self.documents == 0
    }
}
