//! The session operations of a [`ReplicaNode`] that ask every live node rather than a key's
//! owners: a principal's sessions, the count, and the purge of due sessions (each primary names
//! its due sessions; every node deletes its copies of the chosen ones, so each expiry is reported
//! once).

use std::collections::HashMap;
use std::sync::Arc;

use continuum_core::placement::PlacementKey;
use continuum_core::{Principal, SessionId, SessionRecord, Timestamp};
use continuum_store::{PurgedSession, StoreError};

use super::error::ReplicationError;
use super::node::ReplicaNode;
use super::view::{Route, View};
use super::wire::{Reply, Request};

/// Sessions walked per page when a node looks through what it holds.
const SCAN_PAGE: usize = 4096;

impl ReplicaNode {
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
                    return Err(StoreError::Unavailable(Box::new(ReplicationError::Unsettled {
                        why: "a node did not count its sessions",
                    })));
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
            Err(StoreError::Unavailable(Box::new(ReplicationError::Unsettled { why: "no quorum" })))
        }
    }
}
