//! The transfer after a membership change: each node hands the sessions and documents it holds
//! to the nodes that became their owners, in the background, while the cluster keeps serving.
//!
//! Without it a node that gained a key holds no copy until the key is next touched (it then
//! takes the other owners' copies, see `session_ops`), so a key left untouched while its owners
//! fail one after the other could be lost with the last one even though no more than `k` were
//! ever down at once. With it, once the transfer after a change has finished, every live owner
//! of every key holds it again.
//!
//! What moves: sessions (tombstones included), principals' epochs (a sign-out everywhere must
//! outlive its owners as a tombstone does), documents' logs and their named versions.
//!
//! Each holder sends what it holds to the owners that gained it: the owners under the current
//! view that were not owners under every view this node wrote under since its last finished
//! transfer ([`Written::gained`]). Several holders may send the same key (every
//! surviving previous owner does); the receiver keeps the newer copy (`merge`), so repeats and
//! late arrivals change nothing and a tombstone is never replaced by the copy it revoked. A
//! transfer that fails (a peer unreachable) is run again, whole, a moment later.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use continuum_core::placement::PlacementKey;
use continuum_core::{DocKey, Principal, SessionRecord};
use continuum_store::{StoreError, StoredDoc};
use tokio_util::sync::CancellationToken;

use super::doc_ops::{doc_body, wire_doc};
use super::error::ReplicationError;
use super::membership::TRANSFERRED_KEY;
use super::node::ReplicaNode;
use super::view::View;
use super::wire::Request;
use super::written::Written;

/// How long the view must stay the same before a transfer starts (a node leaving is often
/// followed by others seeing it leave, one gossip round apart).
const SETTLE: Duration = Duration::from_millis(300);
/// How long after a failed transfer it is tried again.
const RETRY: Duration = Duration::from_secs(1);
/// Sessions read from the local store per page, and sent per request.
const PAGE: usize = 512;
/// Sessions per hand-over request: the receiver stores each new one durably (an fsync), so a
/// request of a whole page (512) to a node that lacks them took longer than a call may (2 s) on
/// a busy machine, and the transfer failed and started over, again and again (a long fault run).
const HANDOFF_BATCH: usize = 64;
/// Documents read from the local store per page.
const DOC_PAGE: usize = 64;

/// The owners one transfer could not reach, and why the first did not take its copies.
#[derive(Default)]
struct Unreached {
    owners: std::collections::HashSet<String>,
    first: Option<StoreError>,
}

/// What one transfer sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Moved {
    /// Session copies sent (one per receiving node).
    pub sessions: u64,
    /// Principals' epochs sent (sign-outs everywhere, which end sealed tokens).
    pub epochs: u64,
    /// Document copies sent.
    pub docs: u64,
    /// Named versions of documents sent.
    pub versions: u64,
}

/// Runs the transfers of `node` until `cancel`: waits for the first view with a quorum (what
/// this node holds then is what it held under it), then, after each change that settles into a
/// view with a quorum, hands over what moved.
pub(crate) async fn run(
    node: Arc<ReplicaNode>,
    chitchat: Arc<tokio::sync::Mutex<chitchat::Chitchat>>,
    cancel: CancellationToken,
) {
    // Others read the finished view from gossip: a node catching up trusts its own copies again
    // once every peer has finished (see `ReplicaNode::copies_fresh`).
    let finished = |fingerprint: u64| {
        node.transferred_view.store(fingerprint, Ordering::Release);
        let chitchat = Arc::clone(&chitchat);
        async move { chitchat.lock().await.self_node_state().set(TRANSFERRED_KEY, fingerprint) }
    };
    let mut views = node.views();
    loop {
        let view = Arc::clone(&views.borrow_and_update());
        if view.has_quorum() {
            node.transfer_finished(Arc::clone(&view), 0);
            finished(view.fingerprint()).await;
            break;
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            changed = views.changed() => if changed.is_err() { return },
        }
    }
    let mut failed = false;
    loop {
        let wait = async {
            if failed {
                tokio::time::sleep(RETRY).await;
                Ok(())
            } else {
                views.changed().await
            }
        };
        tokio::select! {
            () = cancel.cancelled() => return,
            changed = wait => if changed.is_err() { return },
        }
        // Not finished for this view: a peer catching up must not take the fingerprint of an
        // earlier transfer for an equal view (before a partition) as this one finished.
        if views.borrow().fingerprint() != node.transferred_view.load(Ordering::Acquire) {
            node.transferred_view.store(0, Ordering::Release);
            chitchat.lock().await.self_node_state().set(TRANSFERRED_KEY, 0u64);
        }
        // Let the view settle: a change often comes in several steps.
        loop {
            match tokio::time::timeout(SETTLE, views.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) => return,
                Err(_elapsed) => break,
            }
        }
        let now = Arc::clone(&views.borrow_and_update());
        if !now.has_quorum() {
            // Nothing is written without a quorum; transfer once one is back. The others may
            // write without this node meanwhile: its copies are suspect until it catches up.
            node.catching_up.store(true, Ordering::Release);
            failed = false;
            continue;
        }
        let started = tokio::time::Instant::now();
        let written = node.written().clone();
        match node.hand_over(&written, &now).await {
            Ok(moved) => {
                if moved != Moved::default() {
                    tracing::info!(
                        sessions = moved.sessions,
                        epochs = moved.epochs,
                        documents = moved.docs,
                        versions = moved.versions,
                        took_ms = started.elapsed().as_millis() as u64,
                        "handed copies to their new owners"
                    );
                }
                node.transfer_finished(Arc::clone(&now), written.len());
                finished(now.fingerprint()).await;
                failed = false;
            }
            Err(error) => {
                tracing::debug!(error = %error, "a transfer to new owners failed; trying again");
                failed = true;
            }
        }
    }
}

impl ReplicaNode {
    /// Sends every session and document held here to the owners that gained it under `now`
    /// given the views `written` under.
    pub(crate) async fn hand_over(&self, written: &Written, now: &View) -> Result<Moved, StoreError> {
        if written.only(now) {
            return Ok(Moved::default());
        }
        // Documents first, then epochs, then sessions: the few, large and least re-creatable
        // keys before the many, so a transfer cut short by the next change has moved them.
        // An owner that does not take a piece is skipped for the rest of the transfer, and the
        // others still get theirs; the transfer then fails and runs again.
        let mut unreached = Unreached::default();
        let (docs, versions) = self.hand_over_docs(written, now, &mut unreached).await?;
        let epochs = self.hand_over_epochs(written, now, &mut unreached).await?;
        let sessions = self.hand_over_sessions(written, now, &mut unreached).await?;
        match unreached.first {
            Some(error) => {
                let owners: Vec<&String> = unreached.owners.iter().collect();
                tracing::warn!(?owners, error = ?error, "a transfer did not reach every new owner; it runs again");
                Err(error)
            }
            None => Ok(Moved { sessions, epochs, docs, versions }),
        }
    }

    async fn hand_over_sessions(
        &self,
        written: &Written,
        now: &View,
        unreached: &mut Unreached,
    ) -> Result<u64, StoreError> {
        let mut sent = 0;
        let mut after = None;
        loop {
            let page = self.sessions.scan(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.sid);
            let full = page.len() == PAGE;
            let mut batches: HashMap<&str, Vec<SessionRecord>> = HashMap::new();
            let clock_now = self.clock.now();
            for record in page {
                if record.purge_at() <= clock_now {
                    continue;
                }
                let key = PlacementKey::session(&record.sid);
                for owner in written.gained(now, &self.me, &key, self.replicas) {
                    batches.entry(owner).or_default().push((*record).clone());
                }
            }
            for (owner, records) in batches {
                for chunk in records.chunks(HANDOFF_BATCH) {
                    let (records, count) = (chunk.to_vec(), chunk.len() as u64);
                    if self
                        .send(now, owner, Request::Handoff { records }, Bytes::new(), count, unreached)
                        .await
                    {
                        sent += count;
                    }
                }
            }
            if !full {
                break;
            }
        }
        Ok(sent)
    }

    async fn hand_over_epochs(
        &self,
        written: &Written,
        now: &View,
        unreached: &mut Unreached,
    ) -> Result<u64, StoreError> {
        let mut sent = 0;
        let mut after: Option<Principal> = None;
        loop {
            let page = match self.sessions.scan_epochs(after.as_ref(), PAGE).await {
                Ok(page) => page,
                Err(StoreError::InvalidWrite(why)) => {
                    tracing::debug!(why, "epochs are not handed over: the local store cannot walk them");
                    break;
                }
                Err(error) => return Err(error),
            };
            let Some((last, _)) = page.last().cloned() else { break };
            let full = page.len() == PAGE;
            let mut batches: HashMap<&str, Vec<(Principal, u64)>> = HashMap::new();
            for (principal, epoch) in page {
                let key = PlacementKey::principal(&principal);
                for owner in written.gained(now, &self.me, &key, self.replicas) {
                    batches.entry(owner).or_default().push((principal.clone(), epoch));
                }
            }
            for (owner, epochs) in batches {
                let count = epochs.len() as u64;
                let request = Request::HandoffEpochs { epochs };
                if self.send(now, owner, request, Bytes::new(), count, unreached).await {
                    sent += count;
                }
            }
            after = Some(last);
            if !full {
                break;
            }
        }
        Ok(sent)
    }

    /// Hands over documents and their named versions; returns how many of each were sent.
    async fn hand_over_docs(
        &self,
        written: &Written,
        now: &View,
        unreached: &mut Unreached,
    ) -> Result<(u64, u64), StoreError> {
        let (mut sent, mut versions_sent) = (0, 0);
        let mut after: Option<DocKey> = None;
        loop {
            let page = match self.docs.scan_docs(after.as_ref(), DOC_PAGE).await {
                Ok(page) => page,
                Err(StoreError::InvalidWrite(why)) => {
                    tracing::debug!(why, "documents are not handed over: the local store cannot walk them");
                    break;
                }
                Err(error) => return Err(error),
            };
            let Some(last) = page.last().cloned() else { break };
            let full = page.len() == DOC_PAGE;
            for key in page {
                let owners = written.gained(now, &self.me, &PlacementKey::doc(&key), self.replicas);
                if owners.is_empty() {
                    continue;
                }
                let doc: StoredDoc = self.docs.load(&key).await?;
                let (snapshot, updates, body) = doc_body(&doc);
                for owner in &owners {
                    let request =
                        Request::HandoffDoc { doc: wire_doc(&key), snapshot, updates: updates.clone() };
                    if self.send(now, owner, request, body.clone(), 1, unreached).await {
                        sent += 1;
                    }
                }
                for meta in self.docs.versions(&key).await? {
                    let Some((meta, state)) = self.docs.version(&key, meta.id).await? else { continue };
                    let state = Bytes::from(state);
                    for owner in &owners {
                        let request = Request::HandoffVersion {
                            doc: wire_doc(&key),
                            name: meta.name.clone(),
                            created_at: meta.created_at,
                        };
                        if self.send(now, owner, request, state.clone(), 1, unreached).await {
                            versions_sent += 1;
                        }
                    }
                }
            }
            after = Some(last);
            if !full {
                break;
            }
        }
        Ok((sent, versions_sent))
    }

    /// One transfer request to `owner`, counted in flight while it is sent; whether `owner`
    /// took it. An owner that did not is noted in `unreached` and skipped from then on.
    async fn send(
        &self,
        view: &View,
        owner: &str,
        request: Request,
        body: Bytes,
        count: u64,
        unreached: &mut Unreached,
    ) -> bool {
        if unreached.owners.contains(owner) {
            return false;
        }
        let why = match view.member(owner) {
            None => "a new owner left",
            Some(member) => {
                self.metrics.transfers_in_flight.inc_by(count as i64);
                let answer = self.peers.call(member, request, &body).await;
                self.metrics.transfers_in_flight.dec_by(count as i64);
                match answer {
                    Ok((Ok(_), _)) => {
                        self.metrics.transferred.inc_by(count);
                        return true;
                    }
                    Ok((Err(refusal), _)) => {
                        tracing::debug!(?refusal, owner, "a new owner refused a transfer");
                        "a new owner refused a transfer"
                    }
                    Err(error) => {
                        tracing::debug!(%error, owner, "a new owner did not take a transfer");
                        "a new owner is unreachable"
                    }
                }
            }
        };
        unreached.owners.insert(owner.to_owned());
        unreached
            .first
            .get_or_insert_with(|| StoreError::Unavailable(Box::new(ReplicationError::Unsettled { why })));
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replication::view::Replicas;

    /// The owners that gain `key` when the view changes from `before` to `now` with writes under
    /// those two only.
    fn gained<'a>(
        before: &View,
        now: &'a View,
        me: &str,
        key: &PlacementKey,
        replicas: Replicas,
    ) -> Vec<&'a str> {
        let mut written = Written::from(Arc::new(before.clone()));
        written.note(&Arc::new(now.clone()));
        written.gained(now, me, key, replicas)
    }

    fn view(ids: &[&str]) -> View {
        crate::replication::view::test_view(ids, ids.len())
    }

    fn keys() -> impl Iterator<Item = PlacementKey> {
        (0..400u32).map(|i| {
            PlacementKey::session(&continuum_core::SessionId::from_bytes([
                i as u8,
                (i >> 8) as u8,
                1,
                2,
                3,
                4,
                5,
                6,
                7,
                8,
                9,
                10,
                11,
                12,
                13,
                14,
            ]))
        })
    }

    #[test]
    fn a_key_goes_only_to_owners_it_did_not_have() {
        let (before, now) = (view(&["a", "b", "c"]), view(&["a", "b", "c", "d"]));
        let mut moved = 0;
        for key in keys() {
            let previous = before.owners(&key, Replicas::Backups(1));
            let targets = gained(&before, &now, "a", &key, Replicas::Backups(1));
            for target in &targets {
                assert_eq!(*target, "d", "only the new node gains keys when one joins");
                assert!(!previous.contains(target));
            }
            moved += targets.len();
        }
        // Rendezvous: the new node is one of two owners of about half the keys.
        assert!((120..=280).contains(&moved), "{moved} of 400 keys moved to the new node");
    }

    #[test]
    fn when_an_owner_leaves_the_survivors_send_to_its_replacement() {
        let (before, now) = (view(&["a", "b", "c", "d"]), view(&["a", "b", "c"]));
        for key in keys() {
            let owners_before = before.owners(&key, Replicas::Backups(1));
            let targets = gained(&before, &now, "a", &key, Replicas::Backups(1));
            if owners_before.contains(&"d") {
                let owners_now = now.owners(&key, Replicas::Backups(1));
                let expected: Vec<&str> =
                    owners_now.into_iter().filter(|o| *o != "a" && !owners_before.contains(o)).collect();
                assert_eq!(targets, expected);
                assert!(!targets.contains(&"d"), "never to the node that left");
            } else {
                assert!(targets.is_empty(), "keys that d did not own do not move");
            }
        }
    }

    #[test]
    fn no_change_and_every_node_holding_everything_move_nothing_on_a_leave() {
        let view_of = view(&["a", "b", "c"]);
        for key in keys() {
            assert!(gained(&view_of, &view_of, "a", &key, Replicas::Backups(1)).is_empty());
            let fewer = view(&["a", "b"]);
            assert!(gained(&view_of, &fewer, "a", &key, Replicas::All).is_empty());
            let more = view(&["a", "b", "c", "d"]);
            assert_eq!(gained(&view_of, &more, "a", &key, Replicas::All), ["d"]);
        }
    }
}
