//! `purge_expired`: the sweep over the expiry index — due entries, re-checked against their
//! session, deleted or rescored.
//!
//! The index is [`EXPIRY_SHARDS`](crate::keys::EXPIRY_SHARDS) sorted sets, `<sid>:<principal>`
//! scored with a lower bound of the session's purge time (see [`crate::sessions`]). A pass asks
//! every shard, concurrently, for its earliest due entries, takes the earliest of them all, and
//! runs the purge script on each session, concurrently: the script deletes the session if it is
//! really due and otherwise returns its purge time, which becomes the entry's new score. Every
//! entry a pass looks at is either removed or moved past `now`, so passes make progress and the
//! sweep ends. Several sweepers may run at once (on several nodes): the script deletes a session
//! once, and only the sweeper whose script deleted it counts it.
//!
//! A session whose key Redis already expired (the safety net of
//! [`RedisConfig::expiry_margin`](crate::RedisConfig::expiry_margin)) is not counted as purged —
//! this call did not delete it — but its index entries are removed.

use continuum_core::Timestamp;
use continuum_store::{PurgedSession, StoreError};

use crate::error::RedisStoreError;
use crate::keys::parse_expiry_member;
use crate::scripts::SCRIPTS;
use crate::store::{RedisStore, all};

/// The most entries one pass handles, so a large `limit` does not put thousands of scripts in
/// flight at once.
const PASS: usize = 256;

/// What happened to one due entry.
enum Outcome {
    /// Deleted: what it was.
    Purged(PurgedSession),
    Gone,
    Later(String),
}

pub(crate) async fn purge_expired(
    store: &RedisStore,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<PurgedSession>, StoreError> {
    let mut purged = Vec::new();
    while purged.len() < limit {
        let want = (limit - purged.len()).min(PASS);
        let due = due_entries(store, now, want).await?;
        let exhausted = due.len() < want;
        let outcomes = all(due.iter().map(|(shard, member)| purge_one(store, now, shard, member))).await?;
        purged.extend(outcomes.into_iter().filter_map(|outcome| match outcome {
            Outcome::Purged(session) => Some(session),
            Outcome::Gone | Outcome::Later(_) => None,
        }));
        if exhausted {
            break;
        }
    }
    Ok(purged)
}

/// Up to `want` entries due at `now`, earliest first, from every shard, as (shard, member).
async fn due_entries(
    store: &RedisStore,
    now: Timestamp,
    want: usize,
) -> Result<Vec<(String, String)>, StoreError> {
    let shards = store.keys().expiry_shards().map(|shard| async move {
        let entries: Vec<(String, f64)> = redis::cmd("ZRANGEBYSCORE")
            .arg(&shard)
            .arg("-inf")
            .arg(now.as_millis())
            .arg("WITHSCORES")
            .arg("LIMIT")
            .arg(0)
            .arg(want)
            .query_async(&mut store.connection())
            .await
            .map_err(RedisStoreError::command("ZRANGEBYSCORE"))?;
        Ok::<_, StoreError>(entries.into_iter().map(move |(member, score)| (score, shard.clone(), member)))
    });
    let mut due: Vec<(f64, String, String)> = all(shards).await?.into_iter().flatten().collect();
    due.sort_by(|a, b| a.0.total_cmp(&b.0));
    due.truncate(want);
    Ok(due.into_iter().map(|(_, shard, member)| (shard, member)).collect())
}

/// Runs the purge script for one entry and, on a cluster, fixes the indexes after it.
async fn purge_one(
    store: &RedisStore,
    now: Timestamp,
    shard: &str,
    member: &str,
) -> Result<Outcome, StoreError> {
    let Some((sid, principal)) = parse_expiry_member(member) else {
        // Not an entry this store writes: drop it rather than meet it on every sweep.
        tracing::warn!(shard, member, "dropping a malformed expiry index entry");
        return zrem(store, shard, member).await.map(|()| Outcome::Gone);
    };
    let keys = store.keys();
    let principal_key = keys.principal(&principal);
    let mut script = SCRIPTS.session_purge.key(keys.session(&sid));
    script.arg(now.as_millis()).arg(principal.as_str()).arg(sid.to_string()).arg(member);
    if !store.is_cluster() {
        script.key(&principal_key).key(shard);
    }
    let reply: Vec<String> = script
        .invoke_async(&mut store.connection())
        .await
        .map_err(RedisStoreError::command("session_purge"))?;
    let outcome = match reply.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["purged", active] => Outcome::Purged(PurgedSession { sid, principal, expired: *active == "1" }),
        ["gone"] => Outcome::Gone,
        ["later", score] => Outcome::Later((*score).to_owned()),
        other => return Err(RedisStoreError::unexpected("session_purge", format!("{other:?}"))),
    };
    if store.is_cluster() {
        match &outcome {
            Outcome::Purged(_) | Outcome::Gone => {
                let srem = async {
                    redis::cmd("SREM")
                        .arg(&principal_key)
                        .arg(sid.to_string())
                        .exec_async(&mut store.connection())
                        .await
                        .map_err(RedisStoreError::command("SREM"))
                };
                tokio::try_join!(srem, zrem(store, shard, member))?;
            }
            Outcome::Later(score) => redis::cmd("ZADD")
                .arg(shard)
                .arg("XX")
                .arg(score)
                .arg(member)
                .exec_async(&mut store.connection())
                .await
                .map_err(RedisStoreError::command("ZADD"))?,
        }
    }
    Ok(outcome)
}

async fn zrem(store: &RedisStore, shard: &str, member: &str) -> Result<(), StoreError> {
    redis::cmd("ZREM")
        .arg(shard)
        .arg(member)
        .exec_async(&mut store.connection())
        .await
        .map_err(RedisStoreError::command("ZREM"))
}
