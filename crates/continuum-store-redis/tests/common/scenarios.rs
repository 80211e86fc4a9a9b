//! Scenarios about the keys behind the trait — real-time expiry, index entries left behind, a
//! deadline moved earlier — run on one server and on the cluster alike. They look at the keys
//! by the names the crate documents.

use std::sync::Arc;
use std::time::Duration;

use continuum_core::{Clock, NewSession, Principal, SessionPolicy, SessionRecord, SystemClock, Timestamp};
use continuum_store::SessionStore;
use continuum_store_redis::{RedisConfig, RedisStore};
use redis::aio::ConnectionLike;

use super::Cleanup;

/// A plain connection for looking at keys: to the server, or through the cluster client.
pub enum Raw {
    /// One server.
    Single(redis::aio::MultiplexedConnection),
    /// A cluster, commands routed by key.
    Cluster(redis::cluster_async::ClusterConnection),
}

impl ConnectionLike for Raw {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Self::Single(connection) => connection.req_packed_command(cmd),
            Self::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Self::Single(connection) => connection.req_packed_commands(pipeline, offset, count),
            Self::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        0
    }
}

/// Connects a [`Raw`] to `url` (`redis://` or `redis+cluster://`).
pub async fn raw(url: &str) -> Raw {
    match url.strip_prefix("redis+cluster://") {
        None => {
            let client = redis::Client::open(url).expect("client");
            Raw::Single(client.get_multiplexed_async_connection().await.expect("raw connection"))
        }
        Some(hosts) => {
            let nodes: Vec<String> = hosts.split(',').map(|host| format!("redis://{host}")).collect();
            let client = redis::cluster::ClusterClient::new(nodes).expect("cluster client");
            Raw::Cluster(client.get_async_connection().await.expect("raw cluster connection"))
        }
    }
}

/// A store under a fresh prefix with the default expiry margin (one hour), and its prefix.
async fn store(url: &str, cleanup: &Cleanup) -> (RedisStore, String) {
    let prefix = cleanup.prefix();
    let store =
        RedisStore::connect(RedisConfig::new(url).with_prefix(prefix.clone())).await.expect("connect");
    (store, prefix)
}

/// A new active session record, created at `now`.
pub fn record(principal: &str, idle_secs: u64, absolute_secs: u64, now: Timestamp) -> SessionRecord {
    let ask = NewSession {
        principal: Some(Principal::parse(principal).expect("principal")),
        idle_timeout_secs: Some(idle_secs),
        absolute_timeout_secs: Some(absolute_secs),
        ..NewSession::default()
    };
    SessionPolicy::default().new_session(ask, now).expect("new session").0
}

fn session_key(prefix: &str, record: &SessionRecord) -> String {
    format!("{prefix}s:{{{}}}", record.sid)
}

async fn expire_time(raw: &mut Raw, key: &str) -> i64 {
    redis::cmd("PEXPIRETIME").arg(key).query_async(raw).await.expect("PEXPIRETIME")
}

const MARGIN_MS: i64 = RedisConfig::DEFAULT_EXPIRY_MARGIN.as_millis() as i64;

/// With real times, Redis's own expiry sits at the purge time plus the margin, follows a touch
/// and a revocation, and never moves earlier.
pub async fn real_time_expiry_follows_the_purge_time(url: &str, cleanup: &Cleanup) {
    let (store, prefix) = store(url, cleanup).await;
    let mut raw = raw(url).await;
    let now = SystemClock.now();
    let created = record("alice", 600, 3600, now);
    let key = session_key(&prefix, &created);
    store.insert(Arc::new(created.clone())).await.expect("insert");
    let at = |t: Timestamp| t.as_millis() + MARGIN_MS;
    assert_eq!(expire_time(&mut raw, &key).await, at(created.purge_at()), "at insert");

    let later = now + Duration::from_secs(100);
    store.touch(&created.sid, later).await.expect("touch");
    assert_eq!(expire_time(&mut raw, &key).await, at(later + Duration::from_secs(600)), "after a touch");
    store.touch(&created.sid, now).await.expect("touch backwards is ignored");
    assert_eq!(expire_time(&mut raw, &key).await, at(later + Duration::from_secs(600)));

    let current = store.get(&created.sid).await.expect("get").expect("present");
    let revoked = SessionPolicy::default().revoke(&current).expect("revocable");
    store.replace(current.version, Arc::new(revoked.clone())).await.expect("revoke");
    assert_eq!(
        expire_time(&mut raw, &key).await,
        at(revoked.absolute_expires_at),
        "a tombstone lives until the absolute expiry"
    );
}

/// A record whose purge time plus the margin is already past by Redis's clock gets no expiry
/// at all: only the sweeper deletes it, when the application's clock says so.
pub async fn a_deadline_past_by_the_servers_clock_sets_no_expiry(url: &str, cleanup: &Cleanup) {
    let (store, prefix) = store(url, cleanup).await;
    let mut raw = raw(url).await;
    let long_ago = SystemClock.now() - Duration::from_secs(30 * 24 * 3600);
    let old = record("alice", 60, 3600, long_ago);
    store.insert(Arc::new(old.clone())).await.expect("insert");
    assert_eq!(expire_time(&mut raw, &session_key(&prefix, &old)).await, -1, "no expiry set");
    assert!(store.get(&old.sid).await.expect("get").is_some());
    assert_eq!(
        store.purge_expired(old.purge_at() - Duration::from_millis(1), 10).await.expect("purge").len(),
        0
    );
    assert_eq!(store.purge_expired(old.purge_at(), 10).await.expect("purge").len(), 1);
    assert!(store.get(&old.sid).await.expect("get").is_none());
}

/// A key Redis deleted on its own leaves its index entries; readers never show it, `count`
/// includes it until the sweeper passes, and the sweeper removes the entries without counting
/// the session as purged by it.
pub async fn the_sweeper_clears_entries_of_keys_redis_expired(url: &str, cleanup: &Cleanup) {
    let (store, prefix) = store(url, cleanup).await;
    let mut raw = raw(url).await;
    let now = SystemClock.now();
    let gone = record("alice", 60, 3600, now);
    let kept = record("alice", 600, 3600, now);
    for record in [&gone, &kept] {
        store.insert(Arc::new(record.clone())).await.expect("insert");
    }
    // What Redis's expiry does when the sweeper did not come in time.
    let _: () = redis::cmd("DEL").arg(session_key(&prefix, &gone)).query_async(&mut raw).await.expect("DEL");
    let alice = gone.principal.clone();
    let listed = store.list_by_principal(&alice).await.expect("list");
    assert_eq!(
        listed.iter().map(|r| r.sid).collect::<Vec<_>>(),
        vec![kept.sid],
        "the gone session is not listed"
    );
    assert_eq!(store.count().await.expect("count"), 2, "counted until the sweeper passes");

    assert_eq!(
        store.purge_expired(gone.purge_at(), 100).await.expect("purge").len(),
        0,
        "not deleted by this call"
    );
    assert_eq!(store.count().await.expect("count"), 1);
    let members: Vec<String> = redis::cmd("SMEMBERS")
        .arg(principal_key(&prefix, &alice))
        .query_async(&mut raw)
        .await
        .expect("SMEMBERS");
    assert_eq!(members, vec![kept.sid.to_string()], "the principal index lost the gone session");
}

/// Entries of the principal index that name no session, or another principal's session, are
/// never returned.
pub async fn stale_principal_entries_are_never_listed(url: &str, cleanup: &Cleanup) {
    let (store, prefix) = store(url, cleanup).await;
    let mut raw = raw(url).await;
    let now = SystemClock.now();
    let alices = record("alice", 600, 3600, now);
    let bobs = record("bob", 600, 3600, now);
    let never_written = record("alice", 600, 3600, now);
    for record in [&alices, &bobs] {
        store.insert(Arc::new(record.clone())).await.expect("insert");
    }
    let _: () = redis::cmd("SADD")
        .arg(principal_key(&prefix, &alices.principal))
        .arg(bobs.sid.to_string())
        .arg(never_written.sid.to_string())
        .query_async(&mut raw)
        .await
        .expect("SADD");
    let listed = store.list_by_principal(&alices.principal).await.expect("list");
    assert_eq!(listed.iter().map(|r| r.sid).collect::<Vec<_>>(), vec![alices.sid]);
}

/// A replace that moves the purge time earlier (a shorter idle timeout) lowers the session's
/// expiry entry, so the sweeper finds it in time.
pub async fn a_replace_with_an_earlier_deadline_is_purged_on_time(url: &str, cleanup: &Cleanup) {
    let (store, _) = store(url, cleanup).await;
    let now = SystemClock.now();
    let created = record("alice", 600, 3600, now);
    store.insert(Arc::new(created.clone())).await.expect("insert");
    let shorter = SessionRecord { idle_timeout_secs: 60, version: 2, ..created.clone() };
    store.replace(1, Arc::new(shorter.clone())).await.expect("replace");
    assert_eq!(
        store.purge_expired(shorter.purge_at() - Duration::from_millis(1), 10).await.expect("purge").len(),
        0
    );
    assert_eq!(
        store.purge_expired(shorter.purge_at(), 10).await.expect("purge").len(),
        1,
        "due at the new deadline"
    );
    assert_eq!(store.count().await.expect("count"), 0);
}

fn principal_key(prefix: &str, principal: &Principal) -> String {
    use base64::Engine as _;
    format!("{prefix}p:{{{}}}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(principal.as_str()))
}

/// Every scenario, one after the other.
pub async fn run_all(url: &str, cleanup: &Cleanup) {
    real_time_expiry_follows_the_purge_time(url, cleanup).await;
    a_deadline_past_by_the_servers_clock_sets_no_expiry(url, cleanup).await;
    the_sweeper_clears_entries_of_keys_redis_expired(url, cleanup).await;
    stale_principal_entries_are_never_listed(url, cleanup).await;
    a_replace_with_an_earlier_deadline_is_purged_on_time(url, cleanup).await;
}
