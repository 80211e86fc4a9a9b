//! The session operations of a [`ReplicaNode`]: each routed by its key — applied here as the
//! primary (copied to the backups first, then applied to this node's store), read from a
//! copy held here, or forwarded to the primary in one hop.
//!
//! A primary copies before it applies, and a backup takes a copy only from the primary of its
//! own view: so a write refused by a backup (membership changed) leaves no copy anywhere but
//! on backups that took it, which are owners, and a deposed primary cannot write at all.

use std::sync::Arc;

use continuum_core::placement::PlacementKey;
use continuum_core::{Principal, SessionId, SessionRecord, Timestamp};
use continuum_store::{StoreError, cas};

use super::merge::{Merge, is_same_write, merge, merge_from_primary};
use super::node::{ReplicaNode, unexpected};
use super::step::Step;
use super::view::{Route, View, route};
use super::wire::{Reply, Request};

/// The newer of two copies (by version, then `last_seen_at`).
fn newer(held: Option<SessionRecord>, other: Option<SessionRecord>) -> Option<SessionRecord> {
    match (held, other) {
        (Some(held), Some(other)) => {
            Some(if (other.version, other.last_seen_at) > (held.version, held.last_seen_at) {
                other
            } else {
                held
            })
        }
        (held, other) => held.or(other),
    }
}

impl ReplicaNode {
    pub(crate) fn route_of<'a>(&self, view: &'a View, key: &PlacementKey) -> Route<'a> {
        route(view, &self.me, key, self.replicas)
    }

    /// Inserts a session through its primary.
    pub async fn insert(&self, record: &Arc<SessionRecord>) -> Result<(), StoreError> {
        let key = PlacementKey::session(&record.sid);
        let key = &key;
        self.attempt(|view| async move {
            match self.route_of(&view, key) {
                Route::NoQuorum => Err(Step::Retry("no quorum")),
                Route::Primary { backups } => self.primary_insert(&view, &backups, record).await,
                Route::Backup { primary } | Route::Forward { primary } => {
                    let request = Request::Insert { record: (**record).clone() };
                    self.forward(&view, primary, request, &[]).await.map(drop)
                }
            }
        })
        .await
    }

    pub(crate) async fn primary_insert(
        &self,
        view: &View,
        backups: &[&str],
        record: &Arc<SessionRecord>,
    ) -> Result<(), Step> {
        let key = PlacementKey::session(&record.sid);
        let _write = self.stripe(&key).lock().await;
        let held = self.held(view, &key, &record.sid).await?;
        // The same record already held is this insert retried after an attempt that reached a
        // backup but not its answer (a copy fetched back by `held`): finish it, do not refuse it.
        let retried = held.as_deref() == Some(&**record);
        if !retried {
            cas::check_insert(held.as_deref())?;
        }
        let copy = Request::Put { view: view.fingerprint(), record: (**record).clone() };
        self.copy_to(view, backups, copy, &[]).await?;
        self.store_newer((**record).clone()).await?;
        self.committed(view, backups, record);
        Ok(())
    }

    /// After a write is on every owner: this node's own mark of the key (a copy it took as a
    /// backup under an earlier view) goes, and the backups are told.
    fn committed(&self, view: &View, backups: &[&str], record: &SessionRecord) {
        self.pending().clear(&record.sid);
        self.confirm_to(view, backups, record.sid, record.version);
    }

    /// The copy of `sid` held here, for a read ([`ReplicaNode::settled`]).
    pub(crate) async fn read_held(
        &self,
        view: &View,
        sid: &SessionId,
    ) -> Result<Option<Arc<SessionRecord>>, Step> {
        match self.sessions.get(sid).await? {
            Some(record) => Ok(Some(self.settled(view, record).await?)),
            None => Ok(None),
        }
    }

    /// `record`, a copy held here, once it may be answered. A copy whose write its primary has
    /// not confirmed ([`super::pending`]) is first handed to every other owner, so that no owner
    /// answers an older version after this one answered it; if one does not take it, the read
    /// is tried again (under the next view, once a dead primary has left it). A confirmed copy
    /// (nearly every read) costs one look in the pending table.
    async fn settled(&self, view: &View, record: Arc<SessionRecord>) -> Result<Arc<SessionRecord>, Step> {
        if self.pending().of(&record.sid).is_none() {
            return Ok(record);
        }
        let key = PlacementKey::session(&record.sid);
        for owner in view.owners(&key, self.replicas).into_iter().filter(|owner| *owner != self.me) {
            let Some(member) = view.member(owner) else { return Err(Step::Retry("an owner left")) };
            let handoff = Request::Handoff { records: vec![(*record).clone()] };
            match self.peers.call(member, handoff, &[]).await {
                Ok((Ok(_), _)) => {}
                _ => return Err(Step::Retry("an unconfirmed copy could not be handed to every owner")),
            }
        }
        self.pending().confirm(&record.sid, record.version);
        Ok(record)
    }

    /// Reads a session from a copy held here, or from its owners.
    pub async fn get(&self, sid: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        let key = PlacementKey::session(sid);
        let key = &key;
        self.attempt(|view| async move {
            match self.route_of(&view, key) {
                Route::NoQuorum => Err(Step::Retry("no quorum")),
                Route::Primary { .. } | Route::Backup { .. } => {
                    // A copy held while catching up may miss what the others wrote meanwhile.
                    let held = self.sessions.get(sid).await?;
                    match held {
                        Some(record) if self.copies_fresh(&view, key) => {
                            Ok(Some(self.settled(&view, record).await?))
                        }
                        held => {
                            let Some(found) = self.fetch_from_owners(&view, key, sid).await else {
                                return Ok(match held {
                                    Some(record) => Some(self.settled(&view, record).await?),
                                    None => None,
                                });
                            };
                            self.keep_newer(key, found).await?;
                            self.read_held(&view, sid).await
                        }
                    }
                }
                // Every owner, the newest copy winning: an owner that gained the key by a
                // membership change may not hold it yet.
                Route::Forward { .. } => {
                    let mut newest: Option<SessionRecord> = None;
                    let mut answered = false;
                    for owner in view.owners(key, self.replicas) {
                        match self.forward(&view, owner, Request::Get { sid: *sid }, &[]).await {
                            Ok((Reply::Record { record }, _)) => {
                                answered = true;
                                newest = newer(newest, record);
                            }
                            Ok((reply, _)) => return Err(unexpected(&reply)),
                            Err(step @ Step::Fail(_)) => return Err(step),
                            Err(Step::Retry(_)) => {}
                        }
                    }
                    if answered { Ok(newest.map(Arc::new)) } else { Err(Step::Retry("no owner answered")) }
                }
            }
        })
        .await
    }

    /// Compare-and-swap through the primary. An attempt after one that may have reached an
    /// owner is a retry: finding its own record there, it finishes the write rather than
    /// answering a conflict (the fault suite saw a patch answered 412 that took effect).
    pub async fn replace(&self, expected: u64, record: &Arc<SessionRecord>) -> Result<(), StoreError> {
        let key = PlacementKey::session(&record.sid);
        let key = &key;
        let sent = &std::sync::atomic::AtomicBool::new(false);
        self.attempt(|view| async move {
            let route = self.route_of(&view, key);
            if route == Route::NoQuorum {
                return Err(Step::Retry("no quorum"));
            }
            let retry = sent.swap(true, std::sync::atomic::Ordering::AcqRel);
            match route {
                Route::NoQuorum => Err(Step::Retry("no quorum")),
                Route::Primary { backups } => {
                    self.primary_replace(&view, &backups, expected, record, retry).await
                }
                Route::Backup { primary } | Route::Forward { primary } => {
                    let request = Request::Replace { expected, record: (**record).clone(), retry };
                    self.forward(&view, primary, request, &[]).await.map(drop)
                }
            }
        })
        .await
    }

    pub(crate) async fn primary_replace(
        &self,
        view: &View,
        backups: &[&str],
        expected: u64,
        record: &Arc<SessionRecord>,
        retry: bool,
    ) -> Result<(), Step> {
        let key = PlacementKey::session(&record.sid);
        let _write = self.stripe(&key).lock().await;
        let held = self.held(view, &key, &record.sid).await?;
        let finishing = retry && held.as_deref().is_some_and(|held| is_same_write(held, record));
        if !finishing {
            cas::check_replace(held.as_deref(), expected, record)?;
        }
        let copy = Request::Put { view: view.fingerprint(), record: (**record).clone() };
        self.copy_to(view, backups, copy, &[]).await?;
        // The compare-and-swap was decided above, under the stripe; the local copy only has to
        // hold at least this record (a reader may have fetched it back from a backup already).
        self.store_newer((**record).clone()).await?;
        self.committed(view, backups, record);
        Ok(())
    }

    /// Moves `last_seen_at` forward through the primary.
    pub async fn touch(&self, sid: &SessionId, at: Timestamp) -> Result<(), StoreError> {
        let key = PlacementKey::session(sid);
        let key = &key;
        self.attempt(|view| async move {
            match self.route_of(&view, key) {
                Route::NoQuorum => Err(Step::Retry("no quorum")),
                Route::Primary { backups } => self.primary_touch(&view, &backups, sid, at).await,
                Route::Backup { primary } | Route::Forward { primary } => {
                    self.forward(&view, primary, Request::Touch { sid: *sid, at }, &[]).await.map(drop)
                }
            }
        })
        .await
    }

    pub(crate) async fn primary_touch(
        &self,
        view: &View,
        backups: &[&str],
        sid: &SessionId,
        at: Timestamp,
    ) -> Result<(), Step> {
        let key = PlacementKey::session(sid);
        let _write = self.stripe(&key).lock().await;
        let Some(next) = self.held(view, &key, sid).await?.and_then(|held| cas::touched(&held, at)) else {
            return Ok(());
        };
        self.copy_to(view, backups, Request::Put { view: view.fingerprint(), record: next }, &[]).await?;
        Ok(self.sessions.touch(sid, at).await?)
    }

    /// A backup's side of a write: takes `record` from `from` if `from` is the key's primary
    /// under this node's view and the views are the same; keeps the newer copy.
    pub(crate) async fn accept_copy(
        &self,
        from: &str,
        view_fingerprint: u64,
        record: SessionRecord,
    ) -> Result<(), Step> {
        let key = PlacementKey::session(&record.sid);
        let view = self.copy_view(view_fingerprint)?;
        match self.route_of(&view, &key) {
            Route::Backup { primary } if primary == from => {}
            _ => return Err(Step::Retry("the sender is not the primary here")),
        }
        #[cfg(feature = "fault-modes")]
        if self.drops_copy("session") {
            return Ok(());
        }
        let _write = self.copy_stripe(&key).lock().await;
        let before = self.sessions.get(&record.sid).await?.map(|held| held.version);
        let (sid, version) = (record.sid, record.version);
        self.store_merged(record, merge_from_primary).await?;
        // A new version (not a touch) is pending until its primary confirms it.
        if before.is_none_or(|held| held < version) {
            self.pending().mark(sid, version);
        }
        Ok(())
    }

    /// The copy held here; when there is none, the newest copy another owner holds, kept here
    /// first. A node that became an owner by a membership change (a node left or joined) holds
    /// no copy of the keys it gained until it is asked: the other owners under its view
    /// include one of the previous owners, which has every acknowledged write. Call with the
    /// key's stripe held.
    async fn held(
        &self,
        view: &View,
        key: &PlacementKey,
        sid: &SessionId,
    ) -> Result<Option<Arc<SessionRecord>>, Step> {
        let held = self.sessions.get(sid).await?;
        if held.is_some() && self.copies_fresh(view, key) {
            return Ok(held);
        }
        let Some(found) = self.fetch_from_owners(view, key, sid).await else { return Ok(held) };
        self.store_newer(found).await?;
        Ok(self.sessions.get(sid).await?)
    }

    /// The newest copy of `sid` held by the key's other owners under `view`, if any has one.
    async fn fetch_from_owners(
        &self,
        view: &View,
        key: &PlacementKey,
        sid: &SessionId,
    ) -> Option<SessionRecord> {
        // While catching up (just started, back from a stall or a lost quorum), or for a key
        // gained since the copies were last settled, the owners under this node's view may not
        // be the nodes that took the key's writes meanwhile: ask every member (the fault suite
        // saw a node answer 404 for a session created while it was dead). A member that is not
        // an owner under its own view still answers what it holds (`GetHeld`): it may have
        // owned the key while this node was away.
        let (others, ask): (Vec<&str>, Request) = match self.asks_every_member(view, key) {
            true => (
                view.members().iter().map(|member| member.id.as_str()).filter(|id| *id != self.me).collect(),
                Request::GetHeld { sid: *sid },
            ),
            false => (
                view.owners(key, self.replicas).into_iter().filter(|owner| *owner != self.me).collect(),
                Request::Get { sid: *sid },
            ),
        };
        let mut newest: Option<SessionRecord> = None;
        for owner in others {
            if let Ok((Reply::Record { record }, _)) = self.forward(view, owner, ask.clone(), &[]).await {
                newest = newer(newest, record);
            }
        }
        newest
    }

    /// Stores `record` unless the copy held here is as new (see [`merge`]).
    pub(crate) async fn keep_newer(&self, key: &PlacementKey, record: SessionRecord) -> Result<(), Step> {
        let _write = self.copy_stripe(key).lock().await;
        self.store_newer(record).await
    }

    /// [`ReplicaNode::keep_newer`] with the key's stripe already held. A write that lands between
    /// the read and the store (the primary's own, under the other stripe set) makes the store
    /// refuse; the copy is then merged again against what is held now.
    async fn store_newer(&self, record: SessionRecord) -> Result<(), Step> {
        self.store_merged(record, merge).await
    }

    /// Stores `record` as `decide` says given the copy held here, merging again when a write
    /// lands between the read and the store.
    async fn store_merged(
        &self,
        record: SessionRecord,
        decide: fn(Option<&SessionRecord>, &SessionRecord, continuum_core::Timestamp) -> Merge,
    ) -> Result<(), Step> {
        for _ in 0..8 {
            let held = self.sessions.get(&record.sid).await?;
            let stored = match decide(held.as_deref(), &record, self.clock.now()) {
                Merge::Insert => self.sessions.insert(Arc::new(record.clone())).await,
                Merge::Replace { expected } => {
                    self.sessions.replace(expected, Arc::new(record.clone())).await
                }
                Merge::Touch { at } => self.sessions.touch(&record.sid, at).await,
                Merge::Keep => Ok(()),
            };
            match stored {
                Err(StoreError::VersionConflict { .. } | StoreError::AlreadyExists) => continue,
                other => return Ok(other?),
            }
        }
        Err(Step::Retry("a copy kept meeting newer writes"))
    }

    /// A principal's epoch, from a copy held here or from its owners.
    pub async fn principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        let key = PlacementKey::principal(principal);
        let key = &key;
        self.attempt(|view| async move {
            match self.route_of(&view, key) {
                Route::NoQuorum => Err(Step::Retry("no quorum")),
                // The highest epoch any owner holds: an owner that gained the key by a membership
                // change may not hold its latest bump yet, and an epoch only grows.
                route => {
                    let mut epoch = if route.reads_locally() {
                        Some(self.sessions.principal_epoch(principal).await?)
                    } else {
                        None
                    };
                    for owner in view.owners(key, self.replicas).into_iter().filter(|owner| *owner != self.me)
                    {
                        let request = Request::Epoch { principal: principal.clone() };
                        if let Ok((Reply::Number { value }, _)) =
                            self.forward(&view, owner, request, &[]).await
                        {
                            epoch = Some(epoch.unwrap_or(0).max(value));
                        }
                    }
                    epoch.ok_or(Step::Retry("no owner answered"))
                }
            }
        })
        .await
    }

    /// Bumps a principal's epoch through its primary.
    pub async fn bump_principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        let key = PlacementKey::principal(principal);
        let key = &key;
        self.attempt(|view| async move {
            match self.route_of(&view, key) {
                Route::NoQuorum => Err(Step::Retry("no quorum")),
                Route::Primary { backups } => self.primary_bump(&view, &backups, principal).await,
                Route::Backup { primary } | Route::Forward { primary } => {
                    match self
                        .forward(&view, primary, Request::BumpEpoch { principal: principal.clone() }, &[])
                        .await?
                    {
                        (Reply::Number { value }, _) => Ok(value),
                        (reply, _) => Err(unexpected(&reply)),
                    }
                }
            }
        })
        .await
    }

    pub(crate) async fn primary_bump(
        &self,
        view: &View,
        backups: &[&str],
        principal: &Principal,
    ) -> Result<u64, Step> {
        let _write = self.stripe(&PlacementKey::principal(principal)).lock().await;
        let next = self.sessions.principal_epoch(principal).await? + 1;
        let copy =
            Request::RaiseEpoch { view: view.fingerprint(), principal: principal.clone(), epoch: next };
        self.copy_to(view, backups, copy, &[]).await?;
        Ok(self.sessions.raise_principal_epoch(principal, next).await?)
    }

    /// A backup's side of an epoch bump.
    pub(crate) async fn accept_epoch(
        &self,
        from: &str,
        view_fingerprint: u64,
        principal: &Principal,
        epoch: u64,
    ) -> Result<u64, Step> {
        let key = PlacementKey::principal(principal);
        let view = self.copy_view(view_fingerprint)?;
        match self.route_of(&view, &key) {
            Route::Backup { primary } if primary == from => {}
            _ => return Err(Step::Retry("the sender is not the primary here")),
        }
        #[cfg(feature = "fault-modes")]
        if self.drops_copy("epoch") {
            return Ok(epoch);
        }
        let _write = self.copy_stripe(&key).lock().await;
        Ok(self.sessions.raise_principal_epoch(principal, epoch).await?)
    }
}
