//! Continuum's Redis store: sessions and continuity documents in Redis or a Redis Cluster, so
//! any number of stateless `continuum serve` nodes share them.
//!
//! One hash per session under a key tagged with its sid; every session write is one Lua script
//! on that key's slot (compare-and-swap on the version, touch, purge), a read is one `HMGET`.
//! Beside the sessions: a set per principal, and an expiry index of 16 sorted sets the sweeper
//! scans (no keyspace notifications, which a cluster does not deliver reliably). Documents are a
//! family of keys tagged with their scope, written by one script each.
//!
//! # What an acknowledged write survives
//! A write that returned `Ok` — [`insert`](continuum_store::SessionStore::insert), `replace`,
//! `touch`, `purge_expired`, [`append`](continuum_store::DocStore::append), `compact`,
//! `save_version` — was applied by the Redis primary owning its key: every later read, from any
//! application node, sees it, and it survives a crash of the application. Beyond that, Redis's
//! configuration decides:
//! - **Default Redis (`appendonly no`)**: a restart or crash of Redis loses every write since the
//!   last RDB snapshot (minutes, by default), and with `save ""` everything. Not what a session
//!   store should run on.
//! - **`appendonly yes` + `appendfsync everysec`** (recommended): a Redis crash loses nothing; a
//!   power loss or kernel crash loses at most about the last second of acknowledged writes.
//! - **`appendonly yes` + `appendfsync always`**: nothing acknowledged is lost on a power loss
//!   either (Redis fsyncs before answering), at the cost of write throughput.
//! - **Loss of the primary's machine**: replication is asynchronous, so a replica promoted by
//!   Sentinel or the cluster may lack the last writes the old primary acknowledged. This store
//!   does not issue `WAIT`/`WAITAOF`.
//!
//! For documents that means the `cloud` acknowledgement the sync layer sends after an `append`
//! is exactly as strong as the Redis deployment's persistence.
//!
//! # Layout
//! - [`config`]: [`RedisConfig`] — URL (`redis://` or `redis+cluster://`), key prefix, expiry
//!   margin, timeouts.
//! - [`store`]: [`RedisStore`]: connecting (checked at start), `ping` for readiness, the shared
//!   connection.
//! - `connection`: one self-reconnecting connection to a server or a cluster behind one type.
//! - `keys`: every key name and its hash tag (the table is below).
//! - `codec`: a session record as hash fields, and back.
//! - `scripts`: the Lua scripts, `scripts/*.lua` compiled in, run with `EVALSHA`.
//! - [`sessions`]: the [`continuum_store::SessionStore`] operations and how the indexes may lag
//!   on a cluster.
//! - [`sweeper`]: `purge_expired` over the expiry index.
//! - [`documents`]: the [`continuum_store::DocStore`] operations.
//! - [`bus`]: [`RedisBus`], the nodes' [`continuum_store::Bus`] on Redis pub/sub.
//! - [`error`]: [`RedisStoreError`], the causes behind [`continuum_store::StoreError::Backend`].
//!
//! # Keys
//! Every key starts with [`RedisConfig::prefix`]. The part in braces is the Redis Cluster hash
//! tag: keys with the same tag share a slot, and a script only touches keys of one slot.
//!
//! | key | type | holds |
//! |---|---|---|
//! | `<prefix>s:{<sid>}` | hash | one session: JSON record `j`, version `v`, principal `p`, active `a`, last seen `t`, idle `i`, absolute expiry `x`, index score `e` |
//! | `<prefix>p:{<base64url principal>}` | set | the sids of a principal's sessions |
//! | `<prefix>e:{<base64url principal>}` | string | the principal's epoch (`INCR`ed by "sign out everywhere"; absent is 0) |
//! | `<prefix>x:{<0..15>}` | sorted set | expiry index shard: `<sid>:<principal>` scored by (a lower bound of) the purge time, ms |
//! | `<prefix>d:{<base64url scope>}:<name>:m` | hash | `last` (last_seq), `ct` (compacted through), `vn` (last version id) |
//! | `<prefix>d:{<base64url scope>}:<name>:u` | list | the updates after the snapshot, oldest first |
//! | `<prefix>d:{<base64url scope>}:<name>:s` | string | the snapshot |
//! | `<prefix>d:{<base64url scope>}:<name>:vm` / `:vs` | hash | version id → `<created_at ms>:<name>` / state |
//! | `<prefix>n:{<base64url scope>}` | set | the names of the scope's documents |
//!
//! # Round trips
//! | operation | commands |
//! |---|---|
//! | `get` (the validate path's read) | one `HMGET` |
//! | `touch` (a validate that persists its touch) | one `EVALSHA` |
//! | `replace` (patch, rotate, revoke) | one `EVALSHA` |
//! | `insert` | one `EVALSHA`; on a cluster plus `SADD` and `ZADD`, sent concurrently |
//! | `list_by_principal` | `SMEMBERS`, then one `HMGET` per session, concurrently |
//! | `count` | 16 `ZCARD`s, concurrently |
//! | `principal_epoch` / `bump_principal_epoch` | one `GET` / one `INCR` |
//! | `purge_expired` | per pass: 16 `ZRANGEBYSCORE`s, then one `EVALSHA` per due entry (and on a cluster its index commands), concurrently |
//! | `load`, `append`, `compact`, `save_version` | one `EVALSHA` |
//! | `versions`, `doc_names` / `version` | one command / one pipeline of two |
//!
//! # Decisions
//! - **The expiry index is sharded into 16 sorted sets** tagged `{0}`…`{15}`: one set would put
//!   every insert's `ZADD` and the whole index's memory on one node of a cluster. Sixteen spread
//!   them over the primaries at the price of 16 small reads per sweep and per `count`, which
//!   are neither hot paths. A session's shard is fixed by its sid, so the number is part of the
//!   key layout, not a setting.
//! - **Index scores are lower bounds** of the purge time, so a touch is one key on one slot;
//!   the sweeper re-checks before deleting. See [`sessions`].
//! - **Redis's own expiry is a safety net**: a session key gets `PEXPIREAT` at its purge time
//!   plus [`RedisConfig::expiry_margin`] (default one hour), set only when that instant is still
//!   ahead of Redis's clock (`TIME`, read inside the script) and never moved earlier. With clocks
//!   in step, the sweeper deletes first and keeps the indexes exact; the key's own expiry
//!   removes what no sweeper reached (none running, or an insert orphaned by a failed index
//!   write on a cluster). A record whose clock is far behind Redis's (deadline plus margin
//!   already past) gets no expiry and waits for the sweeper, so it is never deleted while the
//!   application still expects it. A record whose clock is ahead of Redis's expires at that
//!   future real time; the test suites, whose clock starts in 2027, use a margin of a hundred
//!   years for that reason. No keyspace notifications are used.
//! - **`purge_expired` counts what it deleted**: a session whose key Redis already expired is
//!   not counted, but the sweep removes its index entries.
//! - **`count` is the size of the expiry index**, not a `SCAN`: every session has exactly one
//!   entry, written with it (atomically on one server, alongside it on a cluster).
//! - **A replace keeps the later `last_seen`** of its record and the stored one, so a touch
//!   that landed after the replace's read is not undone: a touch does not change the version,
//!   so the compare-and-swap cannot see it.
//! - **Documents are tagged by scope**, not by document, so the scope's name set is written in
//!   the same script (see [`documents`]).
//!
//! # Main flow
//! ```no_run
//! # async fn example() -> Result<(), continuum_store::StoreError> {
//! use std::sync::Arc;
//! use continuum_core::{DocKey, SystemClock};
//! use continuum_store::{DocStore, Sessions};
//! use continuum_store_redis::{RedisConfig, RedisStore};
//!
//! let store = RedisStore::connect(RedisConfig::new("redis+cluster://redis-a:7000,redis-b:7000")).await?;
//! let sessions = Sessions::new(Arc::new(store.clone()), Arc::new(SystemClock));
//! let docs: Arc<dyn DocStore> = Arc::new(store.clone());
//! let key = DocKey::parse("user:alice", "checkout").expect("valid key");
//! let seq = docs.append(&key, b"a Yjs update".to_vec()).await?; // applied by the primary
//! assert_eq!(docs.load(&key).await?.last_seq, seq);
//! // ... serve requests; a sweeper calls sessions.purge_expired(1000) now and then ...
//! # Ok(())
//! # }
//! ```

pub mod bus;
mod codec;
pub mod config;
mod connection;
pub mod documents;
pub mod error;
mod keys;
mod scripts;
pub mod sessions;
pub mod store;
pub mod sweeper;

pub use bus::RedisBus;
pub use config::RedisConfig;
pub use error::RedisStoreError;
pub use keys::EXPIRY_SHARDS;
pub use store::RedisStore;
