//! [`ReplicaNode`]: one node of a replicated cluster — its own copies (a local store), its view
//! of the members, its connections to them — and the machinery every operation shares: retry
//! while membership settles, copy to the backups, forward to the primary in one hop.
//!
//! The operations themselves are in `session_ops` and `doc_ops`; what the node answers its
//! peers is in `serve`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use continuum_core::Clock;
use continuum_core::placement::{PlacementKey, stable_hash};
use continuum_store::bus::Inbox;
use continuum_store::{DocStore, SessionStore, StoreError};
use tokio::sync::watch;
use tokio::time::Instant;

use super::error::ReplicationError;
use super::metrics::ReplicationMetrics;
use super::peers::Peers;
use super::step::{Step, refusal_step};
use super::view::{Replicas, View};
use super::wire::{Reply, Request};

/// How long one attempt waits for the view to change before it is tried again.
const RETRY_PAUSE: Duration = Duration::from_millis(100);
/// Lock stripes serializing a primary's writes per key.
const STRIPES: usize = 256;

/// What a node is made of.
pub struct NodeParts {
    /// This node's id.
    pub me: String,
    /// How many nodes hold each key.
    pub replicas: Replicas,
    /// This node's copies of sessions.
    pub sessions: Arc<dyn SessionStore>,
    /// This node's copies of documents.
    pub docs: Arc<dyn DocStore>,
    /// The live members as membership sees them.
    pub view: watch::Receiver<Arc<View>>,
    /// The connections to the other nodes.
    pub peers: Arc<Peers>,
    /// Where notices from peers are delivered (the bus's subscribers).
    pub inbox: Arc<Inbox>,
    /// The clock (purge times of copies).
    pub clock: Arc<dyn Clock>,
    /// The counters.
    pub metrics: Arc<ReplicationMetrics>,
    /// How long an operation waits for membership to settle before it fails as unavailable.
    pub settle_timeout: Duration,
    /// What no live node holds any more (from membership).
    pub loss: watch::Receiver<continuum_store::DataLoss>,
    /// For each live node, the view its last finished transfer was for (from membership).
    pub transferred: watch::Receiver<std::collections::HashMap<String, u64>>,
    /// For each live node, the fingerprint of its current view (from membership).
    pub peer_views: watch::Receiver<std::collections::HashMap<String, u64>>,
    /// The views taken since the copies were last settled (noted by membership).
    pub adopted: Arc<super::adopted::Adopted>,
    /// The `drop-copies` fault mode, when this node is in it (feature `fault-modes`).
    #[cfg(feature = "fault-modes")]
    pub drop_copies: Option<super::drop_copies::DropCopies>,
}

/// One node of a replicated cluster. The session store, document store and bus the server
/// runs on are views of it (`ReplicatedSessions`, `ReplicatedDocs`, `PeerBus`).
pub struct ReplicaNode {
    pub(crate) me: String,
    pub(crate) replicas: Replicas,
    pub(crate) sessions: Arc<dyn SessionStore>,
    pub(crate) docs: Arc<dyn DocStore>,
    view: watch::Receiver<Arc<View>>,
    pub(crate) peers: Arc<Peers>,
    pub(crate) inbox: Arc<Inbox>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) metrics: Arc<ReplicationMetrics>,
    settle_timeout: Duration,
    stripes: Box<[tokio::sync::Mutex<()>]>,
    copy_stripes: Box<[tokio::sync::Mutex<()>]>,
    /// The fingerprint of the view the last finished transfer handed keys over for (0 before
    /// the first view with a quorum).
    pub(crate) transferred_view: std::sync::atomic::AtomicU64,
    /// The views this node took writes under since its last finished transfer.
    written: std::sync::Mutex<super::written::Written>,
    /// The fingerprint of the view last noted in `written` (skips the lock when unchanged).
    last_written: std::sync::atomic::AtomicU64,
    loss: watch::Receiver<continuum_store::DataLoss>,
    peers_transferred: watch::Receiver<std::collections::HashMap<String, u64>>,
    peer_views: watch::Receiver<std::collections::HashMap<String, u64>>,
    adopted: Arc<super::adopted::Adopted>,
    /// Set while this node's copies may be stale: from its start, and after it was without a
    /// quorum (the others may have written without it), until every peer finished its transfer
    /// for the current view.
    pub(crate) catching_up: std::sync::atomic::AtomicBool,
    /// The holdings this node last published.
    pub(crate) published: std::sync::Mutex<super::holdings::Holdings>,
    /// The session copies this node took as a backup whose writes are not confirmed yet.
    pending: std::sync::Mutex<super::pending::Pending>,
    /// Whether this node stood still lately (its copies are then not trusted).
    pub(crate) stall: super::stall::StallWatch,
    /// Session writes in flight, run apart from the request that asked for them
    /// ([`ReplicaNode::detached`]).
    writes: tokio_util::task::TaskTracker,
    /// The `drop-copies` fault mode, when this node is in it.
    #[cfg(feature = "fault-modes")]
    pub(crate) drop_copies: Option<super::drop_copies::DropCopies>,
}

impl ReplicaNode {
    /// A node of these parts.
    pub fn new(parts: NodeParts) -> Self {
        Self {
            me: parts.me,
            replicas: parts.replicas,
            sessions: parts.sessions,
            docs: parts.docs,
            view: parts.view,
            peers: parts.peers,
            inbox: parts.inbox,
            clock: parts.clock,
            metrics: parts.metrics,
            settle_timeout: parts.settle_timeout,
            stripes: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
            copy_stripes: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
            transferred_view: std::sync::atomic::AtomicU64::new(0),
            written: std::sync::Mutex::default(),
            last_written: std::sync::atomic::AtomicU64::new(0),
            loss: parts.loss,
            peers_transferred: parts.transferred,
            peer_views: parts.peer_views,
            adopted: parts.adopted,
            catching_up: std::sync::atomic::AtomicBool::new(true),
            published: std::sync::Mutex::default(),
            pending: std::sync::Mutex::default(),
            stall: super::stall::StallWatch::new(std::time::Instant::now()),
            writes: tokio_util::task::TaskTracker::new(),
            #[cfg(feature = "fault-modes")]
            drop_copies: parts.drop_copies,
        }
    }

    /// This node's id.
    pub fn id(&self) -> &str {
        &self.me
    }

    /// The current view.
    pub fn view(&self) -> Arc<View> {
        Arc::clone(&self.view.borrow())
    }

    /// Whether every key this node holds has been handed to the owners it has under the
    /// current view (the transfer after the last membership change has finished).
    pub fn transfers_settled(&self) -> bool {
        let view = self.view();
        view.has_quorum()
            && self.transferred_view.load(std::sync::atomic::Ordering::Acquire) == view.fingerprint()
    }

    /// Whether every other member of the current view publishes it as its own, so writes are
    /// taken (see [`ReplicaNode::views_agreed`]): a cluster just started or just changed is
    /// settled once this holds, a gossip round or two later.
    pub fn members_agree(&self) -> bool {
        self.views_agreed(&self.view())
    }

    /// This node's own copies of sessions (its local store), for tests and inspection.
    pub fn held_sessions(&self) -> &Arc<dyn SessionStore> {
        &self.sessions
    }

    /// This node's own copies of documents (its local store), for tests and inspection.
    pub fn held_docs(&self) -> &Arc<dyn DocStore> {
        &self.docs
    }

    /// The error for a key no live node holds because all its owners left, if `key` is one
    /// (see [`super::holdings::lost_with`]).
    pub(crate) fn lost_key(&self, key: &PlacementKey, what: &'static str) -> Option<StoreError> {
        let loss = self.loss.borrow().clone();
        let live = self.view().members().iter().map(|member| member.id.clone()).collect();
        super::holdings::lost_with(key, &live, &loss, self.replicas).then(|| {
            StoreError::Unavailable(Box::new(ReplicationError::OwnersLost {
                what,
                nodes: loss.nodes.join(","),
            }))
        })
    }

    /// Runs a write to its end on a task of its own and waits for it. A write whose caller goes
    /// away (the client timed out and closed its connection, dropping the request) still
    /// finishes: dropped half-way, a primary's write would leave a copy on some backups and not
    /// on the primary, and the owners would disagree for good (the fault suite found a
    /// partition doing exactly that with `replicas = all`). Bounded like every attempt, by the
    /// settle timeout.
    pub(crate) async fn detached<T, F>(self: &Arc<Self>, write: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        match self.writes.spawn(write).await {
            Ok(result) => result,
            Err(error) => Err(StoreError::backend(error)),
        }
    }

    /// The views this node took writes under since its last finished transfer. Never held
    /// across `.await`.
    pub(crate) fn written(&self) -> std::sync::MutexGuard<'_, super::written::Written> {
        self.written.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The session copies taken as a backup whose writes are not confirmed yet. Never held
    /// across `.await`.
    pub(crate) fn pending(&self) -> std::sync::MutexGuard<'_, super::pending::Pending> {
        self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Tells `backups` that the write of `sid` at `version` is applied everywhere, in the
    /// background (the client's answer does not wait for it; a confirmation lost costs the next
    /// reader of that copy one hand-over, see [`super::pending`]).
    pub(crate) fn confirm_to(
        &self,
        view: &View,
        backups: &[&str],
        sid: continuum_core::SessionId,
        version: u64,
    ) {
        let members: Vec<super::view::Member> =
            backups.iter().filter_map(|backup| view.member(backup).cloned()).collect();
        if members.is_empty() {
            return;
        }
        let peers = Arc::clone(&self.peers);
        self.writes.spawn(async move {
            for member in members {
                if let Err(error) = peers.call(&member, Request::Committed { sid, version }, &[]).await {
                    tracing::debug!(%error, "a backup did not take a confirmation");
                }
            }
        });
    }

    /// Records a finished transfer for `now`, begun when `started` views were noted (see
    /// [`super::written::Written::finished`]).
    pub(crate) fn transfer_finished(&self, now: Arc<View>, started: usize) {
        let mut written = self.written();
        written.finished(now, started);
        // The next write notes its view again, whichever it is.
        self.last_written.store(0, std::sync::atomic::Ordering::Release);
    }

    /// Notes that a write may be taken under `view` (see [`super::written`]): called by every
    /// attempt and every request a peer sends, before anything is written.
    pub(crate) fn note_written(&self, view: &Arc<View>) {
        use std::sync::atomic::Ordering;
        if !view.has_quorum() || self.last_written.load(Ordering::Acquire) == view.fingerprint() {
            return;
        }
        // Under the lock, so a transfer finishing meanwhile resets the mark after this store.
        let mut written = self.written();
        written.note(view);
        self.last_written.store(view.fingerprint(), Ordering::Release);
    }

    /// Whether this node's own copy of `key` can be trusted under `view` without asking the
    /// other owners: it has not stood still lately ([`super::stall`]), and either it is not
    /// catching up and owned `key` under every view since its copies were last settled
    /// ([`super::adopted`]), or every other member has finished handing keys over for this
    /// view (which ends catching up and settles the copies).
    pub(crate) fn copies_fresh(&self, view: &View, key: &PlacementKey) -> bool {
        use std::sync::atomic::Ordering;
        if !self.stall.trusts(std::time::Instant::now()) {
            return false;
        }
        let catching_up = self.catching_up.load(Ordering::Acquire);
        if !catching_up && self.adopted.trusts(view, &self.me, key, self.replicas) {
            return true;
        }
        let finished = self.peers_transferred.borrow();
        let all = view
            .members()
            .iter()
            .filter(|member| member.id != self.me)
            .all(|member| finished.get(&member.id) == Some(&view.fingerprint()));
        if all && view.has_quorum() {
            self.adopted.settle(view);
            if catching_up {
                self.catching_up.store(false, Ordering::Release);
                tracing::info!("caught up: every peer has handed over its copies for this view");
            }
        }
        all
    }

    /// Whether a copy of `key` missing or stale here is to be looked for on every member rather
    /// than on its other owners: this node is catching up, stood still lately, or gained `key`
    /// since its copies were last settled (see [`super::adopted`]).
    pub(crate) fn asks_every_member(&self, view: &View, key: &PlacementKey) -> bool {
        self.catching_up.load(std::sync::atomic::Ordering::Acquire)
            || !self.stall.trusts(std::time::Instant::now())
            || !self.adopted.trusts(view, &self.me, key, self.replicas)
    }

    /// Whether every other member of `view` publishes `view` as its own. A write is taken, as
    /// a primary or as a backup, only then: a member still on another view may answer reads
    /// from copies this write does not reach (the fault suite saw a node paused past its
    /// failure detection acknowledge a write as it resumed, with a backup that had already
    /// taken it back into its view, while a third node — still without it — answered the older
    /// version 3 ms later). Refused writes are retried until the views agree, a gossip round or
    /// two after a change.
    pub(crate) fn views_agreed(&self, view: &View) -> bool {
        let published = self.peer_views.borrow();
        view.members()
            .iter()
            .filter(|member| member.id != self.me)
            .all(|member| published.get(&member.id) == Some(&view.fingerprint()))
    }

    /// A backup's check of a copy sent under `view_fingerprint`: the view here is the same, and
    /// every member agrees on it ([`ReplicaNode::views_agreed`]). Returns that view.
    pub(crate) fn copy_view(&self, view_fingerprint: u64) -> Result<Arc<View>, Step> {
        let view = self.view();
        if view.fingerprint() != view_fingerprint {
            return Err(Step::Retry("the views differ"));
        }
        if !self.views_agreed(&view) {
            return Err(Step::Retry("the members do not agree on the view yet"));
        }
        Ok(view)
    }

    /// What no live node holds any more, as it changes.
    pub fn data_loss(&self) -> watch::Receiver<continuum_store::DataLoss> {
        self.loss.clone()
    }

    /// The holdings this node last published to the others.
    pub fn published_holdings(&self) -> super::holdings::Holdings {
        self.published.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// The view as it changes.
    pub fn views(&self) -> watch::Receiver<Arc<View>> {
        self.view.clone()
    }

    /// The lock that serializes this node's writes of `key` as its primary, so a
    /// compare-and-swap and the copies it sends are one step. Held while the backups are
    /// called, so a backup never takes it: see [`ReplicaNode::copy_stripe`].
    pub(crate) fn stripe(&self, key: &PlacementKey) -> &tokio::sync::Mutex<()> {
        &self.stripes[(stable_hash(key.as_bytes()) % STRIPES as u64) as usize]
    }

    /// The lock that serializes the copies of `key` this node takes from others (a backup's
    /// copy, a transfer, a copy fetched on a miss). Separate from the primaries' stripes: two
    /// nodes each holding a primary stripe while copying to the other would otherwise wait for
    /// each other whenever their keys share a stripe (a deadlock broken only by the call
    /// timeout, measured at 43 patches/s on two nodes). Never held across a call to a peer
    /// other than the key's primary, whose answer needs no lock.
    pub(crate) fn copy_stripe(&self, key: &PlacementKey) -> &tokio::sync::Mutex<()> {
        &self.copy_stripes[(stable_hash(key.as_bytes()) % STRIPES as u64) as usize]
    }

    /// Runs `once` under the current view until it finishes or fails for good; while it asks to
    /// be retried, waits for the view to change (at most [`RETRY_PAUSE`] a time) up to the
    /// settle timeout, then fails as [`StoreError::Unavailable`].
    pub(crate) async fn attempt<T, F, Fut>(&self, mut once: F) -> Result<T, StoreError>
    where
        F: FnMut(Arc<View>) -> Fut,
        Fut: Future<Output = Result<T, Step>>,
    {
        let deadline = Instant::now() + self.settle_timeout;
        let mut views = self.view.clone();
        let mut agreement = self.peer_views.clone();
        loop {
            let view = Arc::clone(&views.borrow_and_update());
            self.note_written(&view);
            match once(view).await {
                Ok(value) => return Ok(value),
                Err(Step::Fail(error)) => return Err(error),
                Err(Step::Retry(why)) => {
                    self.metrics.retries.inc();
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(StoreError::Unavailable(Box::new(ReplicationError::Unsettled { why })));
                    }
                    // A view changing or a member publishing its view (what a refusal waits
                    // for most often) ends the pause early.
                    let pause = RETRY_PAUSE.min(deadline - now);
                    agreement.borrow_and_update();
                    let changed = async {
                        tokio::select! {
                            changed = views.changed() => changed,
                            changed = agreement.changed() => changed,
                        }
                    };
                    if let Ok(Err(_)) = tokio::time::timeout(pause, changed).await {
                        tokio::time::sleep(pause).await;
                    }
                }
            }
        }
    }

    /// Sends `request` to every backup and waits until each has it (durably, in its own store).
    pub(crate) async fn copy_to(
        &self,
        view: &View,
        backups: &[&str],
        request: Request,
        body: &[u8],
    ) -> Result<(), Step> {
        if backups.is_empty() {
            return Ok(());
        }
        if !self.views_agreed(view) {
            return Err(Step::Retry("the members do not agree on the view yet"));
        }
        let started = Instant::now();
        let calls = backups.iter().map(|backup| {
            let request = request.clone();
            async move {
                let Some(member) = view.member(backup) else { return Err(Step::Retry("a backup left")) };
                match self.peers.call(member, request, body).await {
                    Ok((Ok(_), _)) => Ok(()),
                    Ok((Err(refusal), _)) => Err(refusal_step(refusal)),
                    Err(error) => {
                        tracing::debug!(%error, "a backup did not take a copy");
                        Err(Step::Retry("a backup is unreachable"))
                    }
                }
            }
        });
        for result in futures_util::future::join_all(calls).await {
            result?;
        }
        self.metrics.replication_wait_micros.inc_by(started.elapsed().as_micros() as u64);
        self.metrics.replicated_writes.inc();
        Ok(())
    }

    /// Sends `request` to `owner` (a key's primary, or another owner for a read) and returns
    /// its answer.
    pub(crate) async fn forward(
        &self,
        view: &View,
        owner: &str,
        request: Request,
        body: &[u8],
    ) -> Result<(Reply, Bytes), Step> {
        let Some(member) = view.member(owner) else { return Err(Step::Retry("the owner left")) };
        self.metrics.forwarded.inc();
        match self.peers.call(member, request, body).await {
            Ok((Ok(reply), body)) => Ok((reply, body)),
            Ok((Err(refusal), _)) => Err(refusal_step(refusal)),
            Err(error) => {
                tracing::debug!(%error, "an owner did not answer a forwarded request");
                Err(Step::Retry("the owner is unreachable"))
            }
        }
    }
}

/// The step for a reply of another kind than the request asks for (a peer of a newer build
/// that still speaks this wire version would not send one).
pub(crate) fn unexpected(reply: &Reply) -> Step {
    Step::Fail(StoreError::backend(ReplicationError::UnexpectedReply { reply: format!("{reply:?}") }))
}

#[cfg(feature = "fault-modes")]
impl ReplicaNode {
    /// Whether the copy this backup is about to store is to be dropped instead (only in the
    /// `drop-copies` fault mode, [`super::drop_copies`]).
    pub(crate) fn drops_copy(&self, what: &'static str) -> bool {
        let dropped = self.drop_copies.as_ref().is_some_and(super::drop_copies::DropCopies::drops_next);
        if dropped {
            tracing::debug!(copy = what, "drop-copies: acknowledged a copy without storing it");
        }
        dropped
    }
}
