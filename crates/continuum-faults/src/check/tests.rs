//! The checker against hand-written histories: each check finds what it must and nothing else.

use super::fixture::*;
use super::*;
use crate::history::Outcome;

fn run(builder: &Builder) -> CheckReport {
    check(&builder.records, &CheckOptions::default())
}

#[test]
fn a_history_that_keeps_every_promise_is_clean() {
    let mut h = Builder::default();
    h.op("n0", create("s1"), ok(1, &[]));
    h.op("n1", patch("s1", "a", 1), ok(2, &[("a", 1)]));
    h.op("n1", validate("s1"), ok(2, &[("a", 1)]));
    h.op("n0", patch("s1", "a", 2), ok(3, &[("a", 2)]));
    h.final_op("n2", validate("s1"), ok(3, &[("a", 2)]));
    h.op("n0", create("s2"), ok(1, &[]));
    h.op("n0", revoke("s2"), ok(2, &[]));
    h.op("n1", validate("s2"), refused(401));
    h.op("n1", edit("user:p/d", "e1"), ok(0, &[]));
    h.final_op("n2", read_doc("user:p/d"), doc_keys(&["e1", "other"]));
    let report = run(&h);
    assert!(report.is_clean(), "{:?}", report.violations);
    assert_eq!((report.counts.operations, report.counts.sessions, report.counts.writes_lost), (10, 2, 0));
}

#[test]
fn an_acknowledged_write_missing_at_the_end_is_a_lost_write_naming_both_operations() {
    let mut h = Builder::default();
    h.op("n0", create("s1"), ok(1, &[]));
    let write = h.op("n0", patch("s1", "a", 1), ok(2, &[("a", 1)]));
    let end = h.final_op("n1", validate("s1"), ok(2, &[]));
    let report = run(&h);
    assert_eq!(report.kinds(), [ViolationKind::LostWrite]);
    assert_eq!(report.violations[0].ops, [write, end]);
    assert_eq!(report.counts.writes_lost, 1);
}

#[test]
fn a_write_without_an_answer_may_show_or_not_but_nothing_else_may() {
    let mut h = Builder::default();
    h.op("n0", create("s1"), ok(1, &[]));
    h.op("n0", patch("s1", "a", 1), ok(2, &[("a", 1)]));
    h.op("n0", patch("s1", "a", 2), unknown());
    h.final_op("n1", validate("s1"), ok(3, &[("a", 2)]));
    assert!(run(&h).is_clean());

    let mut h = Builder::default();
    h.op("n0", create("s1"), ok(1, &[]));
    h.op("n0", patch("s1", "a", 1), ok(2, &[("a", 1)]));
    h.op("n0", patch("s1", "a", 2), unknown());
    h.final_op("n1", validate("s1"), ok(3, &[("a", 7)]));
    assert_eq!(run(&h).kinds(), [ViolationKind::LostWrite]);
}

#[test]
fn a_validation_after_an_acknowledged_revocation_is_a_violation_unless_within_the_grace() {
    let mut h = Builder::default();
    h.op("n0", create("s1"), ok(1, &[]));
    let revocation = h.op("n0", revoke("s1"), ok(2, &[]));
    let late = h.op("n1", validate("s1"), ok(2, &[]));
    let report = run(&h);
    assert_eq!(report.kinds(), [ViolationKind::RevocationUndone]);
    assert_eq!(report.violations[0].ops, [revocation, late]);
    assert_eq!(report.counts.revocations_undone, 1);

    let grace = CheckOptions { revocation_grace_us: 1_000_000 };
    let graced = check(&h.records, &grace);
    assert!(graced.is_clean(), "{:?}", graced.violations);
    h.wait_ms(1_000);
    let past_grace = h.op("n1", validate("s1"), ok(2, &[]));
    let report = check(&h.records, &grace);
    assert_eq!(
        report.violations.iter().map(|v| v.ops.clone()).collect::<Vec<_>>(),
        [vec![revocation, past_grace]]
    );

    // A revocation that ended without an answer promises nothing.
    let mut h = Builder::default();
    h.op("n0", create("s1"), ok(1, &[]));
    h.op("n0", revoke("s1"), unknown());
    h.op("n1", validate("s1"), ok(1, &[]));
    h.op("n1", validate("s1"), refused(401));
    assert!(run(&h).is_clean());
}

#[test]
fn a_read_answered_as_revoked_respects_the_revocation() {
    let mut h = Builder::default();
    h.op("n0", create("s1"), ok(1, &[]));
    h.op("n0", revoke("s1"), ok(2, &[]));
    let mut gone = ok(2, &[]);
    if let Outcome::Ok(observed) = &mut gone {
        observed.status = Some("revoked".into());
    }
    h.op("n1", Op::Get { session: s("s1") }, gone);
    assert!(run(&h).is_clean());
}

#[test]
fn a_version_going_down_is_reported_with_where_each_was_seen() {
    let mut h = Builder::default();
    h.op("n0", create("s1"), ok(1, &[]));
    let high = h.op("n0", patch("s1", "a", 1), ok(2, &[("a", 1)]));
    let low = h.op("n1", validate("s1"), ok(1, &[("a", 1)]));
    let report = run(&h);
    assert_eq!(report.kinds(), [ViolationKind::VersionWentBack]);
    assert_eq!(report.violations[0].ops, [high, low]);
}

#[test]
fn a_stale_read_counts_on_the_route_of_the_write_only() {
    let mut h = Builder::default();
    h.op("n0", create("s1"), ok(1, &[]));
    h.op("n0", patch("s1", "a", 1), ok(2, &[("a", 1)]));
    // Another route may lag (the version check still applies to it).
    h.op("n1", validate("s1"), ok(2, &[]));
    assert!(run(&h).is_clean());
    h.op("n0", validate("s1"), ok(2, &[]));
    assert_eq!(run(&h).kinds(), [ViolationKind::StaleRead]);
}

#[test]
fn a_live_session_answered_as_unknown_is_lost_once_however_often() {
    let mut h = Builder::default();
    h.op("n0", create("s1"), ok(1, &[]));
    h.op("n0", patch("s1", "a", 1), ok(2, &[("a", 1)]));
    h.op("n1", validate("s1"), refused(401));
    h.op("n1", validate("s1"), refused(401));
    h.final_op("n1", validate("s1"), refused(404));
    let report = run(&h);
    assert_eq!(report.counts.sessions_lost, 1);
    assert_eq!(report.count(ViolationKind::SessionLost), 3);
    // Gone at the end: its acknowledged write is lost with it.
    assert_eq!(report.count(ViolationKind::LostWrite), 1);

    // A rotation without an answer may have replaced the token the client holds.
    let mut h = Builder::default();
    h.op("n0", create("s1"), ok(1, &[]));
    h.op("n0", Op::Rotate { session: s("s1") }, unknown());
    h.op("n1", validate("s1"), refused(401));
    assert!(run(&h).is_clean());
}

#[test]
fn a_document_edit_acknowledged_as_cloud_must_be_in_every_final_read() {
    let mut h = Builder::default();
    let kept = h.op("n0", edit("user:p/d", "e1"), ok(0, &[]));
    let lost = h.op("n1", edit("user:p/d", "e2"), ok(0, &[]));
    h.op("n1", edit("user:p/d", "e3"), unknown());
    h.final_op("n0", read_doc("user:p/d"), doc_keys(&["e1", "e2"]));
    let end = h.final_op("n1", read_doc("user:p/d"), doc_keys(&["e1"]));
    let report = run(&h);
    assert_eq!(report.kinds(), [ViolationKind::LostDocEdit]);
    assert_eq!(report.violations[0].ops, [lost, end]);
    assert_ne!(kept, lost);
}

#[test]
fn an_end_state_that_could_not_be_read_is_counted_as_unchecked() {
    let mut h = Builder::default();
    h.op("n0", create("s1"), ok(1, &[]));
    h.op("n0", patch("s1", "a", 1), ok(2, &[("a", 1)]));
    h.final_op("n1", validate("s1"), unknown());
    h.op("n0", edit("user:p/d", "e1"), ok(0, &[]));
    let report = run(&h);
    assert!(report.is_clean());
    assert_eq!(report.counts.unchecked, 2);
}
