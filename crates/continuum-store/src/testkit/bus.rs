//! The scenarios every [`Bus`] transport runs: nodes on one store hear each other and not
//! themselves, a deployment elsewhere hears nothing, and a broken subscription comes back and
//! reports the gap.

use std::future::Future;
use std::time::Duration;

use continuum_core::{Principal, SessionId, Timestamp};
use tokio::sync::broadcast;

use crate::{Bus, Heard, Notice, SessionEvent, SessionEventKind};

/// How long a notice may take to arrive.
pub const SOON: Duration = Duration::from_secs(10);
/// How long to listen to be sure nothing arrives.
pub const QUIET: Duration = Duration::from_millis(300);

/// A revocation of a new session of `principal`.
pub fn revoked(principal: &str) -> Notice {
    Notice::Session(SessionEvent {
        kind: SessionEventKind::Revoked,
        sid: SessionId::generate(),
        principal: Principal::parse(principal).expect("a valid principal"),
        at: Timestamp::from_millis(1_700_000_000_000),
    })
}

/// The next thing `receiver` hears, failing after [`SOON`].
pub async fn heard(receiver: &mut broadcast::Receiver<Heard>) -> Heard {
    tokio::time::timeout(SOON, receiver.recv()).await.expect("heard within the deadline").expect("open")
}

/// Fails if `receiver` hears anything within [`QUIET`].
pub async fn silent(receiver: &mut broadcast::Receiver<Heard>) {
    let got = tokio::time::timeout(QUIET, receiver.recv()).await;
    assert!(got.is_err(), "expected nothing, heard {got:?}");
}

/// `a` and `b` serve one store, `elsewhere` another: what `a` publishes reaches `b` only.
pub async fn nodes_hear_each_other_not_themselves(a: &dyn Bus, b: &dyn Bus, elsewhere: &dyn Bus) {
    let (mut on_a, mut on_b, mut on_elsewhere) = (a.subscribe(), b.subscribe(), elsewhere.subscribe());
    let notice = revoked("alice");
    a.publish(&notice).await.expect("publish");
    assert_eq!(heard(&mut on_b).await, Heard::Notice(notice.into()));
    silent(&mut on_a).await;
    silent(&mut on_elsewhere).await;
}

/// `a` and `b` serve one store; `break_subscriptions` cuts both their subscriptions. Each
/// reports a gap, then hears what is published after.
pub async fn a_broken_subscription_is_a_gap(
    a: &dyn Bus,
    b: &dyn Bus,
    break_subscriptions: impl Future<Output = ()>,
) {
    let (mut on_a, mut on_b) = (a.subscribe(), b.subscribe());
    break_subscriptions.await;
    assert_eq!(heard(&mut on_a).await, Heard::Gap);
    assert_eq!(heard(&mut on_b).await, Heard::Gap);
    let after = revoked("bob");
    b.publish(&after).await.expect("publish");
    assert_eq!(heard(&mut on_a).await, Heard::Notice(after.into()));
}
