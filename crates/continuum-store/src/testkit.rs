//! The conformance suite every [`crate::SessionStore`] runs: memory, redb, Redis and PostgreSQL
//! alike. Each check builds a fresh service with [`run_all`]'s factory and a [`ManualClock`], so
//! expiry is tested by moving the clock, never by sleeping. [`docs`] is the same for every
//! [`crate::DocStore`].
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread")]
//! async fn conformance() {
//!     continuum_store::testkit::run_all(|clock| async move {
//!         Sessions::new(Arc::new(MyStore::new()), Arc::new(clock))
//!     }).await;
//! }
//! ```

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use continuum_core::{
    Device, ManualClock, NewSession, Principal, Rejection, SessionRecord, Status, Timestamp, Token,
};
use serde_json::{Value, json};

use crate::{SessionError, SessionEventKind, Sessions, StoreError};

pub mod bus;
pub mod docs;

/// Where every conformance check starts its clock.
pub const START: Timestamp = Timestamp::from_millis(1_800_000_000_000);

/// Runs every conformance check against fresh services built by `make`.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn(ManualClock) -> Fut,
    Fut: Future<Output = Sessions>,
{
    macro_rules! check {
        ($name:ident) => {{
            let clock = ManualClock::new(START);
            let sessions = make(clock.clone()).await;
            $name(&sessions, &clock).await;
        }};
    }
    check!(create_validate_get);
    check!(unknown_and_wrong_secrets_are_rejected);
    check!(idle_expiry_follows_the_clock);
    check!(absolute_expiry_is_final);
    check!(touch_is_lazy_and_keeps_the_version);
    check!(rotation_grace_window);
    check!(revocation_leaves_a_tombstone_until_absolute_expiry);
    check!(compare_and_swap_primitives);
    check!(patch_merges_and_honours_if_match);
    check!(concurrent_patches_lose_nothing);
    check!(concurrent_if_match_counter_counts_every_success);
    check!(principal_index);
    check!(purge_respects_its_limit);
    check!(purge_follows_a_touched_deadline);
    check!(purge_reports_what_it_deleted_and_expiries_are_announced);
    check!(replace_cannot_move_a_session_to_another_principal);
    check!(activity_by_id_touches_live_sessions_only);
    check!(principal_epochs_start_at_zero_and_only_grow);
    check!(concurrent_epoch_bumps_are_each_counted);
    check!(a_walk_of_the_epochs_meets_each_once_in_order);
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn ask(principal: &str, idle: u64, absolute: u64) -> NewSession {
    NewSession {
        principal: Some(Principal::parse(principal).expect("valid principal")),
        device: Device { label: Some("laptop".into()), user_agent: Some("test/1".into()) },
        attributes: json!({"theme": "dark"}).as_object().cloned().unwrap_or_default(),
        idle_timeout_secs: Some(idle),
        absolute_timeout_secs: Some(absolute),
    }
}

async fn create(
    sessions: &Sessions,
    principal: &str,
    idle: u64,
    absolute: u64,
) -> (Arc<SessionRecord>, Token) {
    sessions.create(ask(principal, idle, absolute)).await.expect("create")
}

fn rejection(result: Result<Arc<SessionRecord>, SessionError>) -> Rejection {
    match result {
        Err(SessionError::Rejected(rejection)) => rejection,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

async fn create_validate_get(sessions: &Sessions, _: &ManualClock) {
    let (created, token) = create(sessions, "alice", 600, 3600).await;
    assert_eq!(created.version, 1);
    let validated = sessions.validate(&token).await.expect("fresh token validates");
    assert_eq!(validated.sid, token.sid);
    assert_eq!(validated.principal.as_str(), "alice");
    let stored = sessions.get(&token.sid).await.expect("get");
    assert_eq!(stored.attributes.get("theme"), Some(&json!("dark")));
    assert_eq!(stored.device.label.as_deref(), Some("laptop"));
    assert!(stored.secret_digest.ct_eq(&token.secret.digest()));
    assert_eq!(sessions.store().count().await.expect("len"), 1);
}

async fn unknown_and_wrong_secrets_are_rejected(sessions: &Sessions, _: &ManualClock) {
    let (_, token) = create(sessions, "alice", 600, 3600).await;
    let stranger = Token::generate();
    assert_eq!(rejection(sessions.validate(&stranger).await), Rejection::UnknownToken);
    let forged = Token { sid: token.sid, secret: Token::generate().secret };
    assert_eq!(rejection(sessions.validate(&forged).await), Rejection::UnknownToken);
    assert!(matches!(sessions.get(&stranger.sid).await, Err(SessionError::NotFound)));
}

async fn idle_expiry_follows_the_clock(sessions: &Sessions, clock: &ManualClock) {
    let (_, token) = create(sessions, "alice", 60, 3600).await;
    // Each validation 50 s apart keeps the session alive well past one idle timeout.
    for _ in 0..4 {
        clock.advance(secs(50));
        sessions.validate(&token).await.expect("active session validates");
    }
    clock.advance(secs(60));
    assert_eq!(rejection(sessions.validate(&token).await), Rejection::Expired);
}

async fn absolute_expiry_is_final(sessions: &Sessions, clock: &ManualClock) {
    let (_, token) = create(sessions, "alice", 100, 150).await;
    clock.advance(secs(90));
    sessions.validate(&token).await.expect("before the idle deadline");
    clock.advance(secs(59));
    sessions.validate(&token).await.expect("just before the absolute deadline");
    clock.advance(secs(1));
    assert_eq!(rejection(sessions.validate(&token).await), Rejection::Expired);
}

async fn touch_is_lazy_and_keeps_the_version(sessions: &Sessions, clock: &ManualClock) {
    let (created, token) = create(sessions, "alice", 1000, 10_000).await;
    let fraction = sessions.policy().touch_fraction;
    let below = Duration::from_secs_f64(1000.0 * fraction / 2.0);
    clock.advance(below);
    sessions.validate(&token).await.expect("validates");
    let stored = sessions.get(&token.sid).await.expect("get");
    assert_eq!(stored.last_seen_at, created.last_seen_at, "a touch below the fraction is not written");
    clock.advance(below * 2);
    let validated = sessions.validate(&token).await.expect("validates");
    let stored = sessions.get(&token.sid).await.expect("get");
    assert_eq!(stored.last_seen_at, clock_now(clock), "a touch past the fraction is written");
    assert_eq!(validated.last_seen_at, stored.last_seen_at);
    assert_eq!(stored.version, created.version, "touches do not change the version");
    // A touch never moves last_seen backwards.
    sessions.store().touch(&token.sid, START).await.expect("touch");
    assert_eq!(sessions.get(&token.sid).await.expect("get").last_seen_at, clock_now(clock));
}

fn clock_now(clock: &ManualClock) -> Timestamp {
    use continuum_core::Clock;
    clock.now()
}

async fn rotation_grace_window(sessions: &Sessions, clock: &ManualClock) {
    let (created, old) = create(sessions, "alice", 600, 3600).await;
    let (rotated, new) = sessions.rotate(&old.sid).await.expect("rotate");
    assert_eq!(new.sid, old.sid);
    assert_eq!(rotated.version, created.version + 1);
    sessions.validate(&new).await.expect("new secret works");
    sessions.validate(&old).await.expect("old secret works during the grace window");
    clock.advance(sessions.policy().rotation_grace);
    sessions.validate(&new).await.expect("new secret still works");
    assert_eq!(rejection(sessions.validate(&old).await), Rejection::UnknownToken);
}

async fn revocation_leaves_a_tombstone_until_absolute_expiry(sessions: &Sessions, clock: &ManualClock) {
    let (_, token) = create(sessions, "alice", 60, 3600).await;
    assert!(sessions.revoke(&token.sid).await.expect("revoke"));
    assert!(!sessions.revoke(&token.sid).await.expect("second revoke"), "revoking twice changes nothing");
    assert_eq!(rejection(sessions.validate(&token).await), Rejection::Revoked);
    let tombstone = sessions.get(&token.sid).await.expect("tombstone is kept");
    assert_eq!(tombstone.status, Status::Revoked);
    assert_eq!(tombstone.version, 2);
    // Past the idle deadline the tombstone stays, so nothing can resurrect the session.
    clock.advance(secs(120));
    assert_eq!(sessions.purge_expired(100).await.expect("purge"), 0);
    let stale = SessionRecord { status: Status::Active, version: 2, ..(*tombstone).clone() };
    assert!(matches!(
        sessions.store().replace(1, Arc::new(stale.clone())).await,
        Err(StoreError::VersionConflict { expected: 1, actual: 2 })
    ));
    assert!(matches!(sessions.store().insert(Arc::new(stale)).await, Err(StoreError::AlreadyExists)));
    assert!(matches!(
        sessions.patch_attributes(&token.sid, &json!({"a": 1}), None).await,
        Err(SessionError::Rejected(Rejection::Revoked))
    ));
    assert!(matches!(sessions.rotate(&token.sid).await, Err(SessionError::Rejected(Rejection::Revoked))));
    clock.advance(secs(3600));
    assert_eq!(sessions.purge_expired(100).await.expect("purge"), 1);
    assert!(matches!(sessions.get(&token.sid).await, Err(SessionError::NotFound)));
}

async fn compare_and_swap_primitives(sessions: &Sessions, _: &ManualClock) {
    let store = sessions.store();
    let (created, _) = create(sessions, "alice", 600, 3600).await;
    let mut next = (*created).clone();
    next.version = 2;
    next.attributes.insert("k".into(), json!(1));
    assert!(matches!(
        store.replace(7, Arc::new(next.clone())).await,
        Err(StoreError::VersionConflict { expected: 7, actual: 1 })
    ));
    let same_version = SessionRecord { version: 1, ..next.clone() };
    assert!(matches!(store.replace(1, Arc::new(same_version)).await, Err(StoreError::InvalidWrite(_))));
    store.replace(1, Arc::new(next.clone())).await.expect("replace at the right version");
    assert!(matches!(
        store.replace(1, Arc::new(next.clone())).await,
        Err(StoreError::VersionConflict { .. })
    ));
    let stored = store.get(&created.sid).await.expect("get").expect("present");
    assert_eq!(stored.version, 2);
    assert_eq!(stored.attributes.get("k"), Some(&json!(1)));
    let missing = SessionRecord { sid: Token::generate().sid, ..next };
    assert!(matches!(store.replace(2, Arc::new(missing.clone())).await, Err(StoreError::NotFound)));
    store.touch(&missing.sid, START).await.expect("touching an absent session is ignored");
    assert!(store.get(&missing.sid).await.expect("get").is_none());
}

async fn patch_merges_and_honours_if_match(sessions: &Sessions, _: &ManualClock) {
    let (_, token) = create(sessions, "alice", 600, 3600).await;
    let sid = token.sid;
    let patched = sessions
        .patch_attributes(&sid, &json!({"cart": {"items": 2, "coupon": "X"}, "step": 1}), Some(1))
        .await
        .expect("patch at version 1");
    assert_eq!(patched.version, 2);
    let patched = sessions
        .patch_attributes(&sid, &json!({"cart": {"coupon": null}, "theme": null}), None)
        .await
        .expect("patch without If-Match");
    assert_eq!(Value::Object(patched.attributes.clone()), json!({"cart": {"items": 2}, "step": 1}));
    assert!(matches!(
        sessions.patch_attributes(&sid, &json!({"x": 1}), Some(2)).await,
        Err(SessionError::PreconditionFailed { expected: 2, current: 3 })
    ));
    assert!(matches!(
        sessions.patch_attributes(&sid, &json!([1]), None).await,
        Err(SessionError::InvalidPatch)
    ));
    let huge = "x".repeat(sessions.limits().max_attributes_bytes);
    assert!(matches!(
        sessions.patch_attributes(&sid, &json!({ "big": huge }), None).await,
        Err(SessionError::Limit(_))
    ));
    let stored = sessions.get(&sid).await.expect("get");
    assert_eq!(stored.version, 3, "refused patches change nothing");
    assert!(matches!(
        sessions.patch_attributes(&Token::generate().sid, &json!({}), None).await,
        Err(SessionError::NotFound)
    ));
}

async fn concurrent_patches_lose_nothing(sessions: &Sessions, _: &ManualClock) {
    let (_, token) = create(sessions, "alice", 600, 3600).await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let sessions = sessions.clone();
        let sid = token.sid;
        tasks.push(tokio::spawn(async move {
            sessions.patch_attributes(&sid, &json!({ format!("key{i}"): i }), None).await.map(|_| ())
        }));
    }
    for task in tasks {
        task.await.expect("task").expect("every patch succeeds");
    }
    let stored = sessions.get(&token.sid).await.expect("get");
    for i in 0..64 {
        assert_eq!(stored.attributes.get(&format!("key{i}")), Some(&json!(i)), "key{i} lost");
    }
    assert_eq!(stored.version, 65);
}

async fn concurrent_if_match_counter_counts_every_success(sessions: &Sessions, _: &ManualClock) {
    let (_, token) = create(sessions, "alice", 600, 3600).await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let sessions = sessions.clone();
        let sid = token.sid;
        tasks.push(tokio::spawn(async move {
            let mut successes = 0u64;
            for _ in 0..8 {
                let current = sessions.get(&sid).await.expect("get");
                let count = current.attributes.get("count").and_then(Value::as_u64).unwrap_or(0);
                match sessions
                    .patch_attributes(&sid, &json!({"count": count + 1}), Some(current.version))
                    .await
                {
                    Ok(_) => successes += 1,
                    Err(SessionError::PreconditionFailed { .. }) => {}
                    Err(other) => panic!("unexpected {other:?}"),
                }
            }
            successes
        }));
    }
    let mut successes = 0;
    for task in tasks {
        successes += task.await.expect("task");
    }
    let stored = sessions.get(&token.sid).await.expect("get");
    assert!(successes > 0);
    assert_eq!(stored.attributes.get("count"), Some(&json!(successes)));
}

async fn principal_index(sessions: &Sessions, clock: &ManualClock) {
    let mut alice = Vec::new();
    for _ in 0..3 {
        alice.push(create(sessions, "alice", 600, 3600).await.1);
    }
    let (_, bob) = create(sessions, "bob", 600, 3600).await;
    let alice_principal = Principal::parse("alice").expect("principal");
    let listed: HashSet<_> =
        sessions.list(&alice_principal).await.expect("list").iter().map(|r| r.sid).collect();
    assert_eq!(listed, alice.iter().map(|t| t.sid).collect());
    sessions.revoke(&alice[0].sid).await.expect("revoke");
    assert_eq!(sessions.list(&alice_principal).await.expect("list").len(), 2, "tombstones are not listed");
    let revoked = sessions.revoke_principal(&alice_principal, Some(&alice[1].sid)).await.expect("revoke all");
    assert_eq!(revoked, 1);
    let left: Vec<_> = sessions.list(&alice_principal).await.expect("list").iter().map(|r| r.sid).collect();
    assert_eq!(left, vec![alice[1].sid]);
    sessions.validate(&bob).await.expect("bob is untouched");
    clock.advance(secs(3600));
    sessions.purge_expired(100).await.expect("purge");
    let raw = sessions.store().list_by_principal(&alice_principal).await.expect("raw list");
    assert!(raw.is_empty(), "purged sessions leave the principal index");
}

async fn purge_respects_its_limit(sessions: &Sessions, clock: &ManualClock) {
    for _ in 0..5 {
        create(sessions, "carol", 60, 3600).await;
    }
    let (_, keeper) = create(sessions, "carol", 600, 3600).await;
    clock.advance(secs(61));
    assert_eq!(sessions.purge_expired(3).await.expect("purge"), 3);
    assert_eq!(sessions.purge_expired(100).await.expect("purge"), 2);
    assert_eq!(sessions.purge_expired(100).await.expect("purge"), 0);
    assert_eq!(sessions.store().count().await.expect("len"), 1);
    sessions.validate(&keeper).await.expect("the live session survives purges");
}

async fn purge_follows_a_touched_deadline(sessions: &Sessions, clock: &ManualClock) {
    let (_, token) = create(sessions, "dave", 100, 3600).await;
    clock.advance(secs(90));
    sessions.validate(&token).await.expect("validates and persists the touch");
    clock.advance(secs(20));
    assert_eq!(sessions.purge_expired(100).await.expect("purge"), 0, "the touch moved the deadline to 190 s");
    sessions.validate(&token).await.expect("still live at 110 s, which moves the deadline to 210 s");
    clock.advance(secs(99));
    assert_eq!(sessions.purge_expired(100).await.expect("purge"), 0, "not purged before 210 s");
    clock.advance(secs(1));
    assert_eq!(sessions.purge_expired(100).await.expect("purge"), 1, "purged once the moved deadline passed");
}

async fn purge_reports_what_it_deleted_and_expiries_are_announced(sessions: &Sessions, clock: &ManualClock) {
    let (idle, _) = create(sessions, "frank", 60, 3600).await;
    let (revoked, _) = create(sessions, "grace", 60, 120).await;
    let (_, kept) = create(sessions, "frank", 600, 3600).await;
    assert!(sessions.revoke(&revoked.sid).await.expect("revoke"));
    let mut events = sessions.events();
    clock.advance(secs(121));
    let mut purged = sessions.store().purge_expired(sessions.now(), 100).await.expect("purge");
    purged.sort_by_key(|session| session.principal.as_str().to_owned());
    let expected = [
        crate::PurgedSession { sid: idle.sid, principal: idle.principal.clone(), expired: true },
        crate::PurgedSession { sid: revoked.sid, principal: revoked.principal.clone(), expired: false },
    ];
    assert_eq!(purged, expected, "an active session expired; a tombstone reached its absolute expiry");
    assert!(events.try_recv().is_err(), "the store alone announces nothing");

    // Through the service: an expired session is announced, a tombstone is not (again).
    let (late, _) = create(sessions, "heidi", 60, 3600).await;
    let (late_tombstone, _) = create(sessions, "ivan", 60, 150).await;
    sessions.revoke(&late_tombstone.sid).await.expect("revoke");
    let mut events = sessions.events();
    clock.advance(secs(151));
    assert_eq!(sessions.purge_expired(100).await.expect("purge"), 2);
    let event = events.try_recv().expect("one event");
    assert_eq!(
        (event.kind, event.sid, event.principal),
        (SessionEventKind::Expired, late.sid, late.principal.clone())
    );
    assert_eq!(event.at, sessions.now());
    assert!(events.try_recv().is_err(), "nothing for the tombstone");
    sessions.validate(&kept).await.expect("the live session is untouched");
}

async fn replace_cannot_move_a_session_to_another_principal(sessions: &Sessions, _: &ManualClock) {
    let (created, _) = create(sessions, "erin", 600, 3600).await;
    let moved = SessionRecord {
        principal: Principal::parse("mallory").expect("principal"),
        version: 2,
        ..(*created).clone()
    };
    assert!(matches!(sessions.store().replace(1, Arc::new(moved)).await, Err(StoreError::InvalidWrite(_))));
    let mallory = Principal::parse("mallory").expect("principal");
    assert!(sessions.store().list_by_principal(&mallory).await.expect("list").is_empty());
}

async fn activity_by_id_touches_live_sessions_only(sessions: &Sessions, clock: &ManualClock) {
    let (created, token) = create(sessions, "gina", 100, 3600).await;
    clock.advance(secs(1));
    assert!(sessions.touch_live(&token.sid).await.expect("touch"));
    assert_eq!(
        sessions.get(&token.sid).await.expect("get").last_seen_at,
        created.last_seen_at,
        "not due yet"
    );
    clock.advance(secs(50));
    assert!(sessions.touch_live(&token.sid).await.expect("touch"));
    assert_eq!(sessions.get(&token.sid).await.expect("get").last_seen_at, clock_now(clock), "due: persisted");
    sessions.revoke(&token.sid).await.expect("revoke");
    assert!(!sessions.touch_live(&token.sid).await.expect("touch"), "a tombstone is not live");
    assert!(!sessions.touch_live(&Token::generate().sid).await.expect("touch"), "unknown");
}

async fn principal_epochs_start_at_zero_and_only_grow(sessions: &Sessions, _: &ManualClock) {
    let store = sessions.store();
    let alice = Principal::parse("alice").expect("principal");
    // Braces, colons and non-ASCII must not leak into key names or another principal's epoch.
    let tricky = Principal::parse("tenant:{alice}/é").expect("principal");
    let anonymous = Principal::anonymous();
    for principal in [&alice, &tricky, &anonymous] {
        assert_eq!(store.principal_epoch(principal).await.expect("epoch"), 0, "{principal}");
    }
    assert_eq!(store.bump_principal_epoch(&alice).await.expect("bump"), 1);
    assert_eq!(store.bump_principal_epoch(&alice).await.expect("bump"), 2);
    assert_eq!(store.principal_epoch(&alice).await.expect("epoch"), 2);
    assert_eq!(store.principal_epoch(&tricky).await.expect("epoch"), 0, "principals are independent");
    assert_eq!(store.bump_principal_epoch(&tricky).await.expect("bump"), 1);
    assert_eq!(store.principal_epoch(&alice).await.expect("epoch"), 2);
    assert_eq!(store.principal_epoch(&anonymous).await.expect("epoch"), 0);
    // Epochs are not sessions: they neither count nor get purged.
    assert_eq!(store.count().await.expect("count"), 0);
    assert_eq!(sessions.purge_expired(100).await.expect("purge"), 0);
    assert_eq!(store.principal_epoch(&alice).await.expect("epoch"), 2);
}

/// For stores that walk their epochs (`scan_epochs`; others refuse and are skipped): pages in
/// name order, every principal with an epoch once, with its epoch.
async fn a_walk_of_the_epochs_meets_each_once_in_order(sessions: &Sessions, _: &ManualClock) {
    let store = sessions.store();
    let mut expected = Vec::new();
    for (i, name) in ["carol", "alice", "tenant:{b}/é", "bob", "dave"].iter().enumerate() {
        let principal = Principal::parse(name).expect("principal");
        for _ in 0..=i {
            store.bump_principal_epoch(&principal).await.expect("bump");
        }
        expected.push((principal, i as u64 + 1));
    }
    expected.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    let mut walked = Vec::new();
    let mut after: Option<Principal> = None;
    loop {
        let page = match store.scan_epochs(after.as_ref(), 2).await {
            Ok(page) => page,
            Err(StoreError::InvalidWrite(_)) if walked.is_empty() => return,
            Err(error) => panic!("scan_epochs failed: {error}"),
        };
        assert!(page.len() <= 2, "a page holds at most its limit");
        let Some((last, _)) = page.last().cloned() else { break };
        walked.extend(page);
        after = Some(last);
    }
    assert_eq!(walked, expected, "every principal with an epoch once, in name order");
}

async fn concurrent_epoch_bumps_are_each_counted(sessions: &Sessions, _: &ManualClock) {
    let principal = Principal::parse("bob").expect("principal");
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let store = Arc::clone(sessions.store());
        let principal = principal.clone();
        tasks.push(tokio::spawn(async move { store.bump_principal_epoch(&principal).await }));
    }
    let mut seen = HashSet::new();
    for task in tasks {
        seen.insert(task.await.expect("task").expect("bump"));
    }
    assert_eq!(seen, (1..=32).collect(), "every bump returned its own value");
    assert_eq!(sessions.store().principal_epoch(&principal).await.expect("epoch"), 32);
}
