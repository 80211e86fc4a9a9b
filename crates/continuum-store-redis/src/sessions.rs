//! [`RedisStore`] as a [`SessionStore`]: one hash per session, every write one script on the
//! session's slot, the principal index and the expiry index beside it.
//!
//! # The indexes on a single server and on a cluster
//! On a single server the insert script also writes the principal's set and the expiry shard,
//! and the purge script cleans them, in the same atomic step. On a cluster those keys live on
//! other slots, where one script may not reach, so the store sends their commands
//! concurrently with the session script (one round trip of waiting, not two). Until both have
//! landed — or forever, if one of them failed — the indexes may hold an entry whose session
//! does not exist, or (when the index write failed, which fails the insert and so never hands
//! out its token) a session may lack its entries; the key's own expiry then removes it.
//! Readers are built for this: [`SessionStore::list_by_principal`] returns only sessions that
//! exist and belong to the principal, and the sweeper drops entries whose session is gone. An
//! index is briefly stale, never wrong in results.
//!
//! # The expiry index holds lower bounds
//! A session's entry is scored with a time at or before its purge time, not always the purge
//! time itself: a touch moves the purge time later without rescoring, so a touch stays one
//! command on one slot. The sweeper re-reads the session before deleting it and rescores
//! entries that are not due yet. Only a replace that moves the purge time earlier (the session
//! service never does) lowers the entry, inside the script on a single server, in a second
//! command on a cluster.

use std::sync::Arc;

use async_trait::async_trait;
use continuum_core::{Principal, SessionId, SessionRecord, Timestamp};
use continuum_store::{SessionStore, StoreError};

use crate::codec::{self, READ_FIELDS};
use crate::error::RedisStoreError;
use crate::keys::expiry_member;
use crate::scripts::SCRIPTS;
use crate::store::{RedisStore, all};

#[async_trait]
impl SessionStore for RedisStore {
    /// One `EVALSHA` on a single server; on a cluster, the script plus `SADD` and `ZADD`
    /// to the indexes, sent concurrently.
    async fn insert(&self, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        let keys = self.keys();
        let session = keys.session(&record.sid);
        let principal = keys.principal(&record.principal);
        let shard = keys.expiry_for(&record.sid);
        let member = expiry_member(&record.sid, &record.principal);
        let purge_at = record.purge_at().as_millis();
        let sid = record.sid.to_string();

        let mut script = SCRIPTS.session_insert.key(&session);
        for arg in codec::record_args(&record)? {
            script.arg(arg);
        }
        script.arg(purge_at).arg(self.inner.margin_ms).arg(&sid).arg(&member);
        let inserted: i64 = if self.is_cluster() {
            let sadd = redis::cmd("SADD").arg(&principal).arg(&sid).to_owned();
            let zadd = redis::cmd("ZADD").arg(&shard).arg("LT").arg(purge_at).arg(&member).to_owned();
            let (inserted, (), ()) = tokio::try_join!(
                self.invoke("session_insert", &script),
                self.query("SADD", &sadd),
                self.query("ZADD", &zadd),
            )?;
            inserted
        } else {
            script.key(&principal).key(&shard);
            self.invoke("session_insert", &script).await?
        };
        match inserted {
            1 => Ok(()),
            _ => Err(StoreError::AlreadyExists),
        }
    }

    /// One `HMGET`.
    async fn get(&self, sid: &SessionId) -> Result<Option<Arc<SessionRecord>>, StoreError> {
        read(self, sid).await.map(|record| record.map(Arc::new))
    }

    /// One `EVALSHA` (a second command only on a cluster, for a replace that moves the purge
    /// time earlier).
    async fn replace(&self, expected_version: u64, record: Arc<SessionRecord>) -> Result<(), StoreError> {
        let keys = self.keys();
        let shard = keys.expiry_for(&record.sid);
        let member = expiry_member(&record.sid, &record.principal);
        let increases = if record.version > expected_version { "1" } else { "0" };

        let mut script = SCRIPTS.session_replace.key(keys.session(&record.sid));
        for arg in codec::record_args(&record)? {
            script.arg(arg);
        }
        script.arg(self.inner.margin_ms).arg(expected_version.to_string()).arg(increases).arg(&member);
        if !self.is_cluster() {
            script.key(&shard);
        }
        let reply: Vec<String> = self.invoke("session_replace", &script).await?;
        match reply.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["ok"] => Ok(()),
            ["ok", score] => redis::cmd("ZADD")
                .arg(&shard)
                .arg("LT")
                .arg(*score)
                .arg(&member)
                .exec_async(&mut self.connection())
                .await
                .map_err(RedisStoreError::command("ZADD")),
            ["missing"] => Err(StoreError::NotFound),
            ["conflict", actual] => match actual.parse() {
                Ok(actual) => Err(StoreError::VersionConflict { expected: expected_version, actual }),
                Err(_) => Err(RedisStoreError::unexpected("session_replace", format!("version {actual:?}"))),
            },
            ["principal"] => Err(StoreError::InvalidWrite("a replace cannot change the principal")),
            ["version"] => Err(StoreError::InvalidWrite("a replace must increase the version")),
            other => Err(RedisStoreError::unexpected("session_replace", format!("{other:?}"))),
        }
    }

    /// One `EVALSHA`.
    async fn touch(&self, sid: &SessionId, at: Timestamp) -> Result<(), StoreError> {
        SCRIPTS
            .session_touch
            .key(self.keys().session(sid))
            .arg(at.as_millis())
            .arg(self.inner.margin_ms)
            .invoke_async::<i64>(&mut self.connection())
            .await
            .map(drop)
            .map_err(RedisStoreError::command("session_touch"))
    }

    /// `SMEMBERS` on the principal's set, then one `HMGET` per session, concurrently. Ids whose
    /// session is gone, or belongs to someone else, are left out.
    async fn list_by_principal(&self, principal: &Principal) -> Result<Vec<Arc<SessionRecord>>, StoreError> {
        let sids: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.keys().principal(principal))
            .query_async(&mut self.connection())
            .await
            .map_err(RedisStoreError::command("SMEMBERS"))?;
        let sids = sids
            .iter()
            .map(|sid| {
                SessionId::parse(sid).map_err(|_| {
                    RedisStoreError::unexpected("SMEMBERS", format!("not a session id: {sid:?}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let records = all(sids.iter().map(|sid| read(self, sid))).await?;
        Ok(records
            .into_iter()
            .flatten()
            .filter(|record| record.principal == *principal)
            .map(Arc::new)
            .collect())
    }

    async fn purge_expired(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<continuum_store::PurgedSession>, StoreError> {
        crate::sweeper::purge_expired(self, now, limit).await
    }

    /// One `GET`; a missing key is epoch 0.
    async fn principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        let epoch: Option<u64> =
            self.query("GET", redis::cmd("GET").arg(self.keys().epoch(principal))).await?;
        Ok(epoch.unwrap_or(0))
    }

    /// One `INCR`: atomic on its own, no script. The key has no expiry: one small string per
    /// principal that ever signed out everywhere.
    async fn bump_principal_epoch(&self, principal: &Principal) -> Result<u64, StoreError> {
        self.query("INCR", redis::cmd("INCR").arg(self.keys().epoch(principal))).await
    }

    /// The number of entries in the expiry index (`ZCARD` of every shard, concurrently): exact
    /// on a single server; on a cluster it may briefly count an insert in flight or one that
    /// failed, and it counts sessions whose keys Redis expired on its own until the sweeper
    /// passes. No `SCAN`, no `KEYS`.
    async fn ping(&self) -> Result<(), StoreError> {
        RedisStore::ping(self).await
    }

    async fn count(&self) -> Result<u64, StoreError> {
        let shards = self.keys().expiry_shards().map(|shard| async move {
            redis::cmd("ZCARD")
                .arg(shard)
                .query_async::<u64>(&mut self.connection())
                .await
                .map_err(RedisStoreError::command("ZCARD"))
        });
        Ok(all(shards).await?.into_iter().sum())
    }
}

/// The session under `sid`, in one `HMGET`.
pub(crate) async fn read(store: &RedisStore, sid: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
    let (json, last_seen): (Option<Vec<u8>>, Option<i64>) = redis::cmd("HMGET")
        .arg(store.keys().session(sid))
        .arg(&READ_FIELDS)
        .query_async(&mut store.connection())
        .await
        .map_err(RedisStoreError::command("HMGET"))?;
    codec::decode(sid, json, last_seen)
}
