//! What a restart keeps: every session with its version and status, the principal index, and
//! the expiry index (which must still purge, at the times the last writes moved it to).

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use common::{START, reopen};
use continuum_core::{Device, ManualClock, NewSession, Principal, Rejection, SessionId, Status, Token};
use continuum_store::{SessionError, SessionStore, Sessions};
use continuum_store_redb::{RedbConfig, RedbStore};
use serde_json::json;

fn ask(principal: &str, idle: u64) -> NewSession {
    NewSession {
        principal: Some(Principal::parse(principal).expect("principal")),
        device: Device { label: Some("phone".into()), user_agent: Some("test/1".into()) },
        attributes: json!({"theme": "dark"}).as_object().cloned().unwrap_or_default(),
        idle_timeout_secs: Some(idle),
        absolute_timeout_secs: Some(3600),
    }
}

fn service(store: &RedbStore, clock: &ManualClock) -> Sessions {
    Sessions::new(Arc::new(store.clone()), Arc::new(clock.clone()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_versions_and_indexes_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sessions.redb");
    let clock = ManualClock::new(START);
    let alice = Principal::parse("alice").expect("principal");
    let bob = Principal::parse("bob").expect("principal");

    let store = RedbStore::open(&path, RedbConfig::default()).expect("open");
    let sessions = service(&store, &clock);
    let (patched, patched_token) = sessions.create(ask("alice", 600)).await.expect("create");
    sessions.patch_attributes(&patched.sid, &json!({"step": 2}), Some(1)).await.expect("patch");
    sessions.patch_attributes(&patched.sid, &json!({"cart": [1, 2]}), None).await.expect("patch");
    let (rotated, _) = sessions.create(ask("alice", 600)).await.expect("create");
    let (_, rotated_token) = sessions.rotate(&rotated.sid).await.expect("rotate");
    let (revoked, revoked_token) = sessions.create(ask("alice", 600)).await.expect("create");
    assert!(sessions.revoke(&revoked.sid).await.expect("revoke"));
    let (short, short_token) = sessions.create(ask("bob", 60)).await.expect("create");
    // A persisted touch moves bob's session's purge time from START+60 s to START+110 s.
    clock.advance(Duration::from_secs(50));
    sessions.validate(&short_token).await.expect("validate");
    let sids: Vec<SessionId> = vec![patched.sid, rotated.sid, revoked.sid, short.sid];
    let mut before = Vec::new();
    for sid in &sids {
        before.push(sessions.get(sid).await.expect("get"));
    }
    assert_eq!(before.iter().map(|r| r.version).collect::<Vec<_>>(), vec![3, 2, 2, 1]);
    assert_eq!(before[3].last_seen_at, START + Duration::from_secs(50), "the touch was written");
    store.close().await.expect("close");
    drop((sessions, store));

    let store = reopen(&path).await;
    let sessions = service(&store, &clock);
    for (sid, expected) in sids.iter().zip(&before) {
        let after = sessions.get(sid).await.expect("still there after the restart");
        assert_eq!(*after, **expected, "session {sid} changed across the restart");
    }
    assert_eq!(store.count().await.expect("len"), 4);
    assert_eq!(sessions.get(&revoked.sid).await.expect("tombstone").status, Status::Revoked);
    sessions.validate(&patched_token).await.expect("patched session validates");
    sessions.validate(&rotated_token).await.expect("rotated secret validates");
    assert!(matches!(
        sessions.validate(&revoked_token).await,
        Err(SessionError::Rejected(Rejection::Revoked))
    ));
    let live: HashSet<_> = sessions.list(&alice).await.expect("list").iter().map(|r| r.sid).collect();
    assert_eq!(live, HashSet::from([patched.sid, rotated.sid]));
    assert_eq!(store.list_by_principal(&alice).await.expect("raw list").len(), 3, "tombstone included");
    assert_eq!(store.list_by_principal(&bob).await.expect("raw list").len(), 1);

    // The expiry index was reloaded with the moved purge time: not due at 100 s, due at 110 s.
    clock.set(START + Duration::from_secs(100));
    assert_eq!(sessions.purge_expired(100).await.expect("purge"), 0);
    clock.set(START + Duration::from_secs(110));
    assert_eq!(sessions.purge_expired(100).await.expect("purge"), 1);
    assert!(store.list_by_principal(&bob).await.expect("raw list").is_empty());
    assert!(matches!(sessions.get(&short.sid).await, Err(SessionError::NotFound)));
    // Past the absolute expiry everything goes, the tombstone included.
    clock.set(START + Duration::from_secs(3600));
    assert_eq!(sessions.purge_expired(100).await.expect("purge"), 3);
    store.close().await.expect("close");
    drop((sessions, store));

    let store = reopen(&path).await;
    assert_eq!(store.count().await.expect("len"), 0, "purges are durable too");
    assert!(store.list_by_principal(&alice).await.expect("raw list").is_empty());
    let token = Token::generate();
    assert!(store.get(&token.sid).await.expect("get").is_none());
    store.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_store_without_close_still_commits_and_releases_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sessions.redb");
    let store = RedbStore::open(&path, RedbConfig::default()).expect("open");
    let record = common::record("alice");
    store.insert(Arc::new(record.clone())).await.expect("insert");
    drop(store);
    let store = reopen(&path).await;
    assert_eq!(store.get(&record.sid).await.expect("get").as_deref(), Some(&record));
    store.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn principal_epochs_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("epochs.redb");
    let alice = Principal::parse("alice").expect("principal");
    let store = RedbStore::open(&path, RedbConfig::default()).expect("open");
    assert_eq!(store.bump_principal_epoch(&alice).await.expect("bump"), 1);
    assert_eq!(store.bump_principal_epoch(&alice).await.expect("bump"), 2);
    store.close().await.expect("close");
    drop(store);
    let store = RedbStore::open(&path, RedbConfig::default()).expect("reopen");
    assert_eq!(store.principal_epoch(&alice).await.expect("epoch"), 2, "an acknowledged bump is durable");
    assert_eq!(store.bump_principal_epoch(&alice).await.expect("bump"), 3);
    store.close().await.expect("close");
}
