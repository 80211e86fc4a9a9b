//! The per-session checks: one pass over a session's operations in the order its client issued
//! them.

use std::collections::{BTreeMap, BTreeSet};

use super::{CheckOptions, CheckReport, Violation, ViolationKind};
use crate::history::{Observed, Op, Outcome, Record, SessionRef};

/// What the checker knows of one attribute key so far.
#[derive(Default)]
struct KeyState<'a> {
    /// The last acknowledged write of the key.
    acked: Option<(u64, &'a Record)>,
    /// Values of writes that ended without an answer: each may have happened, at any time
    /// since it was sent (a paused node can apply a request long after the client gave up).
    unknown: BTreeSet<u64>,
}

impl KeyState<'_> {
    /// Whether a read may show `value` (`None`: the key absent).
    fn allows(&self, value: Option<u64>) -> bool {
        match value {
            None => self.acked.is_none(),
            Some(value) => {
                self.acked.is_some_and(|(acked, _)| acked == value) || self.unknown.contains(&value)
            }
        }
    }
}

/// What the checker knows of the session so far.
#[derive(Default)]
struct SessionState<'a> {
    /// The create was acknowledged.
    exists: bool,
    /// The acknowledged revocation, if any.
    revoked: Option<&'a Record>,
    /// A revocation, or a rotation, ended without an answer: the session may be gone, or its
    /// current token may be another than the client holds, so "unknown" answers are excused.
    maybe_gone: bool,
    /// The highest version observed, and where.
    max_version: Option<(u64, &'a Record)>,
    /// Per attribute key.
    keys: BTreeMap<String, KeyState<'a>>,
}

/// Checks the operations of `session` (sorted by start) into `report`.
pub(crate) fn check_session(
    session: &SessionRef,
    records: &[&Record],
    options: &CheckOptions,
    report: &mut CheckReport,
) {
    let mut state = SessionState::default();
    for &record in records {
        if let Outcome::Ok(observed) = &record.outcome {
            check_version(session, &mut state, record, observed, report);
            check_revocation(session, &state, record, observed, options, report);
        }
        match (&record.op, &record.outcome) {
            (Op::Create { .. }, Outcome::Ok(_)) => state.exists = true,
            (Op::Revoke { .. }, Outcome::Ok(_)) => state.revoked = state.revoked.or(Some(record)),
            (Op::Revoke { .. } | Op::Rotate { .. }, Outcome::Unknown { .. }) => state.maybe_gone = true,
            (Op::Patch { key, value, .. }, Outcome::Ok(_)) => {
                let key_state = state.keys.entry(key.clone()).or_default();
                key_state.acked = Some((*value, record));
            }
            (Op::Patch { key, value, .. }, Outcome::Unknown { .. }) => {
                state.keys.entry(key.clone()).or_default().unknown.insert(*value);
            }
            (Op::Validate { .. } | Op::Get { .. }, Outcome::Ok(observed)) if observed.is_live() => {
                check_reads(session, &state, record, observed, report);
            }
            _ => {}
        }
        if let Outcome::Refused { status, problem } = &record.outcome
            && matches!(status, 401 | 404)
            && state.exists
            && state.revoked.is_none()
            && !state.maybe_gone
        {
            report.push(Violation {
                kind: ViolationKind::SessionLost,
                subject: session.0.clone(),
                ops: vec![record.id],
                detail: format!("{} on {} answered {status} {problem}", kind(&record.op), record.route),
            });
            if record.final_read {
                lose_every_write(session, &state, record, report);
            }
        }
        if record.final_read && matches!(record.outcome, Outcome::Unknown { .. }) {
            report.counts.unchecked += 1;
        }
    }
}

/// Versions only grow.
fn check_version<'a>(
    session: &SessionRef,
    state: &mut SessionState<'a>,
    record: &'a Record,
    observed: &Observed,
    report: &mut CheckReport,
) {
    let Some(version) = observed.version else { return };
    match state.max_version {
        Some((max, seen)) if version < max => report.push(Violation {
            kind: ViolationKind::VersionWentBack,
            subject: session.0.clone(),
            ops: vec![seen.id, record.id],
            detail: format!(
                "version {max} seen on {}, then {version} on {} by {}",
                seen.route,
                record.route,
                kind(&record.op)
            ),
        }),
        Some((max, _)) if version == max => {}
        _ => state.max_version = Some((version, record)),
    }
}

/// Nothing is valid once its revocation was acknowledged (after the allowed grace).
fn check_revocation(
    session: &SessionRef,
    state: &SessionState<'_>,
    record: &Record,
    observed: &Observed,
    options: &CheckOptions,
    report: &mut CheckReport,
) {
    let Some(revoke) = state.revoked else { return };
    let accepts = match record.op {
        Op::Validate { .. } | Op::Get { .. } => observed.is_live(),
        Op::Patch { .. } | Op::Rotate { .. } => true,
        _ => false,
    };
    if accepts && record.start_us >= revoke.end_us.saturating_add(options.revocation_grace_us) {
        let after_ms = (record.start_us - revoke.end_us) / 1_000;
        report.push(Violation {
            kind: ViolationKind::RevocationUndone,
            subject: session.0.clone(),
            ops: vec![revoke.id, record.id],
            detail: format!(
                "revoked on {}, then {} on {} accepted it {after_ms} ms later",
                revoke.route,
                kind(&record.op),
                record.route
            ),
        });
    }
}

/// A live read shows the client's own writes made on the same route, and the final reads show
/// every acknowledged write.
fn check_reads(
    session: &SessionRef,
    state: &SessionState<'_>,
    record: &Record,
    observed: &Observed,
    report: &mut CheckReport,
) {
    for (key, key_state) in &state.keys {
        let Some((value, write)) = key_state.acked else { continue };
        let seen = observed.attributes.get(key).copied();
        if key_state.allows(seen) {
            continue;
        }
        let shown = seen.map_or_else(|| "nothing".to_owned(), |seen| seen.to_string());
        let (kind, detail) = if record.final_read {
            (
                ViolationKind::LostWrite,
                format!(
                    "{key}={value} acknowledged on {}, the end state on {} has {shown}",
                    write.route, record.route
                ),
            )
        } else if write.route == record.route {
            (
                ViolationKind::StaleRead,
                format!("{key}={value} acknowledged on {}, a later read there shows {shown}", write.route),
            )
        } else {
            continue;
        };
        report.push(Violation { kind, subject: session.0.clone(), ops: vec![write.id, record.id], detail });
    }
}

/// The session is gone at the end: each of its acknowledged writes is lost with it.
fn lose_every_write(
    session: &SessionRef,
    state: &SessionState<'_>,
    record: &Record,
    report: &mut CheckReport,
) {
    for (key, key_state) in &state.keys {
        if let Some((value, write)) = key_state.acked {
            report.push(Violation {
                kind: ViolationKind::LostWrite,
                subject: session.0.clone(),
                ops: vec![write.id, record.id],
                detail: format!(
                    "{key}={value} acknowledged on {}, the session is gone at the end",
                    write.route
                ),
            });
        }
    }
}

/// The operation's name in details.
fn kind(op: &Op) -> &'static str {
    match op {
        Op::Create { .. } => "create",
        Op::Validate { .. } => "validate",
        Op::Get { .. } => "get",
        Op::Patch { .. } => "patch",
        Op::Rotate { .. } => "rotate",
        Op::Revoke { .. } => "revoke",
        Op::DocEdit { .. } => "doc edit",
        Op::DocRead { .. } => "doc read",
    }
}
