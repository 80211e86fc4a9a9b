//! The session operations of a [`ReplicaNode`]: each routed by its key — applied here as the
//! primary (copied to the backups first, then applied to this node's store), read from a
//! copy held here, or forwarded to the primary in one hop.
//!
//! A primary copies before it applies, and a backup takes a copy only from the primary of its
//! own view: so a write refused by a backup (membership changed) leaves no copy anywhere but
//! on backups that took it, which are owners, and a deposed primary cannot write at all.

use std::collections::HashMap;
use std::sync::Arc;

use continuum_core::placement::PlacementKey;
use continuum_core::{Principal, SessionId, SessionRecord, Timestamp};
use continuum_store::{PurgedSession, StoreError, cas};

use super::merge::{Merge, merge};
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

/// Sessions walked per page when a node looks through what it holds.
const SCAN_PAGE: usize = 4096;

impl ReplicaNode {
    fn route_of<'a>(&self, view: &'a View, key: &PlacementKey) -> Route<'a> {
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
        cas::check_insert(self.held(view, &key, &record.sid).await?.as_deref())?;
        let copy = Request::Put { view: view.fingerprint(), record: (**record).clone() };
        self.copy_to(view, backups, copy, &[]).await?;
        Ok(self.sessions.insert(Arc::clone(record)).await?)
    }

    /// Reads a session from a copy held here, or from its owners.
    pub async fn get(&self, sid: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        let key = PlacementKey::session(sid);
        let key = &key;
        self.attempt(|view| async move {
            match self.route_of(&view, key) {
                Route::NoQuorum => Err(Step::Retry("no quorum")),
                Route::Primary { .. } | Route::Backup { .. } => match self.sessions.get(sid).await? {
                    Some(record) => Ok(Some(record)),
                    None => {
                        let Some(found) = self.fetch_from_owners(&view, key, sid).await else {
                            return Ok(None);
                        };
                        self.keep_newer(key, found).await?;
                        Ok(self.sessions.get(sid).await?)
                    }
                },
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

    /// Compare-and-swap through the primary.
    pub async fn replace(&self, expected: u64, record: &Arc<SessionRecord>) -> Result<(), StoreError> {
        let key = PlacementKey::session(&record.sid);
        let key = &key;
        self.attempt(|view| async move {
            match self.route_of(&view, key) {
                Route::NoQuorum => Err(Step::Retry("no quorum")),
                Route::Primary { backups } => self.primary_replace(&view, &backups, expected, record).await,
                Route::Backup { primary } | Route::Forward { primary } => {
                    let request = Request::Replace { expected, record: (**record).clone() };
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
    ) -> Result<(), Step> {
        let key = PlacementKey::session(&record.sid);
        let _write = self.stripe(&key).lock().await;
        cas::check_replace(self.held(view, &key, &record.sid).await?.as_deref(), expected, record)?;
        let copy = Request::Put { view: view.fingerprint(), record: (**record).clone() };
        self.copy_to(view, backups, copy, &[]).await?;
        Ok(self.sessions.replace(expected, Arc::clone(record)).await?)
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
        let view = self.view();
        if view.fingerprint() != view_fingerprint {
            return Err(Step::Retry("the views differ"));
        }
        match self.route_of(&view, &key) {
            Route::Backup { primary } if primary == from => {}
            _ => return Err(Step::Retry("the sender is not the primary here")),
        }
        self.keep_newer(&key, record).await
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
        if let Some(record) = self.sessions.get(sid).await? {
            return Ok(Some(record));
        }
        let Some(found) = self.fetch_from_owners(view, key, sid).await else { return Ok(None) };
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
        let others = view.owners(key, self.replicas).into_iter().filter(|owner| *owner != self.me);
        let mut newest: Option<SessionRecord> = None;
        for owner in others {
            if let Ok((Reply::Record { record }, _)) =
                self.forward(view, owner, Request::Get { sid: *sid }, &[]).await
            {
                newest = newer(newest, record);
            }
        }
        newest
    }

    /// Stores `record` unless the copy held here is as new (see [`merge`]).
    pub(crate) async fn keep_newer(&self, key: &PlacementKey, record: SessionRecord) -> Result<(), Step> {
        let _write = self.stripe(key).lock().await;
        self.store_newer(record).await
    }

    /// [`ReplicaNode::keep_newer`] with the key's stripe already held.
    async fn store_newer(&self, record: SessionRecord) -> Result<(), Step> {
        let held = self.sessions.get(&record.sid).await?;
        match merge(held.as_deref(), &record, self.clock.now()) {
            Merge::Insert => self.sessions.insert(Arc::new(record)).await?,
            Merge::Replace { expected } => self.sessions.replace(expected, Arc::new(record)).await?,
            Merge::Touch { at } => self.sessions.touch(&record.sid, at).await?,
            Merge::Keep => {}
        }
        Ok(())
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
        let view = self.view();
        if view.fingerprint() != view_fingerprint {
            return Err(Step::Retry("the views differ"));
        }
        match self.route_of(&view, &key) {
            Route::Backup { primary } if primary == from => {}
            _ => return Err(Step::Retry("the sender is not the primary here")),
        }
        let _write = self.stripe(&key).lock().await;
        Ok(self.sessions.raise_principal_epoch(principal, epoch).await?)
    }

    /// Every session of `principal`, asked of every live node: each answers with the copies it
    /// owns, and the newest copy of each session wins.
    pub async fn list_by_principal(
        &self,
        principal: &Principal,
    ) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        let view = self.quorate_view()?;
        let mut newest: HashMap<SessionId, Arc<SessionRecord>> = HashMap::new();
        let mut keep = |record: Arc<SessionRecord>| {
            let held = newest.get(&record.sid);
            if held
                .is_none_or(|held| (held.version, held.last_seen_at) < (record.version, record.last_seen_at))
            {
                newest.insert(record.sid, record);
            }
        };
        for record in self.owned_of(principal).await? {
            keep(record);
        }
        let others = view.members().iter().filter(|member| member.id != self.me);
        let answers =
            futures_util::future::join_all(others.map(|member| {
                self.peers.call(member, Request::ListLocal { principal: principal.clone() }, &[])
            }))
            .await;
        for answer in answers {
            match answer {
                Ok((Ok(Reply::Records { records }), _)) => {
                    records.into_iter().map(Arc::new).for_each(&mut keep)
                }
                Ok(other) => tracing::debug!(?other, "a node did not list its sessions"),
                Err(error) => tracing::debug!(%error, "a node did not list its sessions"),
            }
        }
        Ok(newest.into_values().collect())
    }

    /// The copies of `principal`'s sessions this node owns under its view.
    pub(crate) async fn owned_of(
        &self,
        principal: &Principal,
    ) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        let view = self.view();
        let mut records = self.sessions.list_by_principal(principal).await?;
        records.retain(|record| self.route_of(&view, &PlacementKey::session(&record.sid)).reads_locally());
        Ok(records)
    }

    /// How many sessions the cluster holds: each live node counts those it is the primary of.
    pub async fn count(&self) -> Result<u64, StoreError> {
        let view = self.quorate_view()?;
        let mut total = self.count_primary().await?;
        let others = view.members().iter().filter(|member| member.id != self.me);
        let answers = futures_util::future::join_all(
            others.map(|member| self.peers.call(member, Request::CountPrimary, &[])),
        )
        .await;
        for answer in answers {
            match answer {
                Ok((Ok(Reply::Number { value }), _)) => total += value,
                _ => {
                    return Err(StoreError::Unavailable(Box::new(
                        super::error::ReplicationError::Unsettled {
                            why: "a node did not count its sessions",
                        },
                    )));
                }
            }
        }
        Ok(total)
    }

    /// The sessions held here whose primary this node is.
    pub(crate) async fn count_primary(&self) -> Result<u64, StoreError> {
        Ok(self.primary_copies(|_| true, usize::MAX).await?.len() as u64)
    }

    /// Up to `limit` copies held here that this node is the primary of and `wanted` selects.
    pub(crate) async fn primary_copies(
        &self,
        wanted: impl Fn(&SessionRecord) -> bool,
        limit: usize,
    ) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        let view = self.view();
        let mut found = Vec::new();
        let mut after = None;
        loop {
            let page = self.sessions.scan(after, SCAN_PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.sid);
            let full = page.len() < SCAN_PAGE;
            for record in page {
                let primary = matches!(
                    self.route_of(&view, &PlacementKey::session(&record.sid)),
                    Route::Primary { .. }
                );
                if primary && wanted(&record) {
                    found.push(record);
                    if found.len() >= limit {
                        return Ok(found);
                    }
                }
            }
            if full {
                break;
            }
        }
        Ok(found)
    }

    /// Purges up to `limit` sessions due at `now` across the cluster, the earliest first: each
    /// primary names its due sessions, and each chosen one is deleted on every node holding a
    /// copy. Reports each deleted session once.
    pub async fn purge_expired(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<PurgedSession>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let view = self.quorate_view()?;
        let mut due: Vec<(Timestamp, SessionId)> = self
            .due_primary(now, limit)
            .await?
            .iter()
            .map(|record| (record.purge_at(), record.sid))
            .collect();
        let others: Vec<_> = view.members().iter().filter(|member| member.id != self.me).collect();
        let answers = futures_util::future::join_all(
            others.iter().map(|member| self.peers.call(member, Request::DuePrimary { now, limit }, &[])),
        )
        .await;
        for answer in answers {
            if let Ok((Ok(Reply::Records { records }), _)) = answer {
                due.extend(records.iter().map(|record| (record.purge_at(), record.sid)));
            }
        }
        due.sort_unstable();
        due.dedup();
        due.truncate(limit);
        let sids: Vec<SessionId> = due.into_iter().map(|(_, sid)| sid).collect();
        if sids.is_empty() {
            return Ok(Vec::new());
        }
        let mut purged: HashMap<SessionId, PurgedSession> = HashMap::new();
        for session in self.sessions.purge_sessions(&sids, now).await? {
            purged.insert(session.sid, session);
        }
        let answers = futures_util::future::join_all(
            others
                .iter()
                .map(|member| self.peers.call(member, Request::PurgeIds { now, sids: sids.clone() }, &[])),
        )
        .await;
        for answer in answers {
            match answer {
                Ok((Ok(Reply::Purged { sessions }), _)) => {
                    for session in sessions {
                        purged.insert(session.sid, session.into());
                    }
                }
                other => tracing::debug!(?other, "a node did not purge its copies"),
            }
        }
        Ok(purged.into_values().collect())
    }

    /// Up to `limit` sessions this node is the primary of that are due at `now`.
    pub(crate) async fn due_primary(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        let mut due = self.primary_copies(|record| record.purge_at() <= now, usize::MAX).await?;
        due.sort_unstable_by_key(|record| (record.purge_at(), record.sid));
        due.truncate(limit);
        Ok(due)
    }

    /// The current view if it has a quorum.
    pub(crate) fn quorate_view(&self) -> Result<Arc<View>, StoreError> {
        let view = self.view();
        if view.has_quorum() {
            Ok(view)
        } else {
            Err(StoreError::Unavailable(Box::new(super::error::ReplicationError::Unsettled {
                why: "no quorum",
            })))
        }
    }
}
