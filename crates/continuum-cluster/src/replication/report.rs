//! What a node tells the others about itself besides liveness: its [`Holdings`] (how many keys
//! it is the primary of, per owner set), published in its membership state every second, so the
//! survivors of a failure of more than `k` nodes can count what no live node holds.

use std::sync::Arc;
use std::time::Duration;

use chitchat::Chitchat;
use continuum_core::DocKey;
use continuum_core::placement::PlacementKey;
use continuum_store::StoreError;
use tokio_util::sync::CancellationToken;

use super::holdings::Holdings;
use super::membership::HOLDINGS_KEY;
use super::node::ReplicaNode;
use super::view::Route;

/// How often a node counts and publishes its holdings: the staleness of a loss report (keys
/// written in the last interval before a failure are not counted).
const PUBLISH_EVERY: Duration = Duration::from_secs(1);
/// Keys read from the local store per page.
const PAGE: usize = 4096;

/// Counts and publishes `node`'s holdings every [`PUBLISH_EVERY`] until `cancel`; only a
/// changed count is written to membership state (each write is gossiped).
pub(crate) async fn publish_holdings(
    node: Arc<ReplicaNode>,
    chitchat: Arc<tokio::sync::Mutex<Chitchat>>,
    cancel: CancellationToken,
) {
    let mut last: Option<String> = None;
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(PUBLISH_EVERY) => {}
        }
        let holdings = match node.holdings().await {
            Ok(holdings) => holdings,
            Err(error) => {
                tracing::debug!(%error, "could not count this node's holdings");
                continue;
            }
        };
        let text = holdings.encode();
        if last.as_deref() != Some(text.as_str()) {
            chitchat.lock().await.self_node_state().set(HOLDINGS_KEY, &text);
            last = Some(text);
        }
        let (sessions, documents) =
            holdings.0.values().fold((0, 0), |(s, d), counts| (s + counts.sessions, d + counts.documents));
        node.metrics.owned_sessions.set(sessions as i64);
        node.metrics.owned_documents.set(documents as i64);
        *node.published.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = holdings;
    }
}

impl ReplicaNode {
    /// The sessions and documents held here that this node is the primary of, per owner set
    /// under its current view.
    pub(crate) async fn holdings(&self) -> Result<Holdings, StoreError> {
        let view = self.view();
        let mut holdings = Holdings::default();
        if !view.has_quorum() {
            return Ok(holdings);
        }
        let mut count = |key: &PlacementKey, sessions: u64, documents: u64| {
            if let Route::Primary { .. } = self.route_of(&view, key) {
                holdings.add(&view.owners(key, self.replicas), sessions, documents);
            }
        };
        let mut after = None;
        loop {
            let page = self.sessions.scan(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.sid);
            let full = page.len() == PAGE;
            for record in &page {
                count(&PlacementKey::session(&record.sid), 1, 0);
            }
            if !full {
                break;
            }
        }
        let mut after: Option<DocKey> = None;
        loop {
            let page = match self.docs.scan_docs(after.as_ref(), PAGE).await {
                Ok(page) => page,
                Err(StoreError::InvalidWrite(_)) => break,
                Err(error) => return Err(error),
            };
            let Some(last) = page.last().cloned() else { break };
            let full = page.len() == PAGE;
            for key in &page {
                count(&PlacementKey::doc(key), 0, 1);
            }
            after = Some(last);
            if !full {
                break;
            }
        }
        Ok(holdings)
    }
}
