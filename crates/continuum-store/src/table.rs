//! [`SessionTable`]: a concurrent in-memory table of sessions with a principal index and an
//! optional expiry index.
//!
//! Reads of a session by id — every validation — take no lock and write no shared memory: the
//! sessions are in a [`papaya::HashMap`]. (A `DashMap` read takes its shard's read lock, an
//! atomic write to a cache line that every core serving requests then passes around; in a
//! profile of validate that lookup cost as much as parsing the request body.) Writes must be
//! serialized by the caller (one writer at a time), which is how both [`crate::MemoryStore`] and
//! the redb store's mirror use it: the indexes stay consistent with the table because only one
//! writer ever updates them.

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

use continuum_core::{Principal, SessionId, SessionRecord, Timestamp};
use dashmap::DashMap;

/// Sessions by id, with a principal index and (optionally) an index by purge time.
#[derive(Debug, Default)]
pub struct SessionTable {
    sessions: papaya::HashMap<SessionId, Arc<SessionRecord>>,
    by_principal: DashMap<Principal, HashSet<SessionId>>,
    /// `None` when the owner keeps its own expiry index (the redb store keeps it on disk).
    by_purge: Option<Mutex<BTreeSet<(Timestamp, SessionId)>>>,
}

impl SessionTable {
    /// A table that also indexes sessions by purge time, for [`SessionTable::due`].
    pub fn with_expiry_index() -> Self {
        Self { by_purge: Some(Mutex::default()), ..Self::default() }
    }

    /// A table without an expiry index.
    pub fn without_expiry_index() -> Self {
        Self::default()
    }

    /// The session with this id.
    pub fn get(&self, sid: &SessionId) -> Option<Arc<SessionRecord>> {
        self.sessions.pin().get(sid).cloned()
    }

    /// Every session of `principal`.
    pub fn by_principal(&self, principal: &Principal) -> Vec<Arc<SessionRecord>> {
        let Some(sids) = self.by_principal.get(principal).map(|set| set.value().clone()) else {
            return Vec::new();
        };
        sids.iter().filter_map(|sid| self.get(sid)).collect()
    }

    /// Inserts or replaces a session and updates the indexes. Callers serialize writes.
    pub fn put(&self, record: Arc<SessionRecord>) {
        let previous = self.sessions.pin().insert(record.sid, Arc::clone(&record)).cloned();
        if let Some(index) = &self.by_purge {
            let mut index = index.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(previous) = &previous {
                index.remove(&(previous.purge_at(), previous.sid));
            }
            index.insert((record.purge_at(), record.sid));
        }
        if previous.is_none() {
            self.by_principal.entry(record.principal.clone()).or_default().insert(record.sid);
        }
    }

    /// Removes a session and its index entries; returns it. Callers serialize writes.
    pub fn remove(&self, sid: &SessionId) -> Option<Arc<SessionRecord>> {
        let record = self.sessions.pin().remove(sid).cloned()?;
        if let Some(index) = &self.by_purge {
            let mut index = index.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            index.remove(&(record.purge_at(), record.sid));
        }
        self.by_principal.remove_if_mut(&record.principal, |_, sids| {
            sids.remove(sid);
            sids.is_empty()
        });
        Some(record)
    }

    /// Up to `limit` ids whose purge time is at or before `now`, earliest first. Empty when the
    /// table has no expiry index.
    pub fn due(&self, now: Timestamp, limit: usize) -> Vec<SessionId> {
        let Some(index) = &self.by_purge else { return Vec::new() };
        let index = index.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        index.iter().take_while(|(at, _)| *at <= now).take(limit).map(|(_, sid)| *sid).collect()
    }

    /// Up to `limit` sessions with an id after `after`, in id order. It sorts every id, so a
    /// walk of `n` sessions in pages of `p` costs `n / p` sorts: take large pages.
    pub fn scan(&self, after: Option<SessionId>, limit: usize) -> Vec<Arc<SessionRecord>> {
        let sessions = self.sessions.pin();
        let mut sids: Vec<SessionId> =
            sessions.keys().filter(|sid| after.is_none_or(|after| **sid > after)).copied().collect();
        sids.sort_unstable();
        sids.into_iter().take(limit).filter_map(|sid| sessions.get(&sid).cloned()).collect()
    }

    /// How many sessions the table holds.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}
