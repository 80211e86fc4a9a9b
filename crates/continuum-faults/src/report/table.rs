//! The comparison as text: one line per strategy for the terminal, and the markdown tables for
//! BENCHMARKS.md.

use std::fmt::Write as _;

use super::StrategySummary;
use crate::check::ViolationKind;
use crate::runner::schedule::FaultKind;

/// `redb: 4,211 ops, 0 violations; kill 2.4 s, pause 2.0 s, …` — what `strategies.sh` prints.
pub fn line(summary: &StrategySummary) -> String {
    let counts = &summary.check.counts;
    let faults: Vec<String> = summary
        .faults
        .iter()
        .map(|fault| format!("{} {:.1} s", fault.fault.name(), fault.unavailable_secs))
        .collect();
    let tolerated = summary.tolerated.as_slice();
    let named = |kinds: Vec<ViolationKind>| -> String {
        let named: Vec<String> =
            kinds.iter().map(|kind| format!("{} {}", summary.check.count(*kind), kind.name())).collect();
        named.join(", ")
    };
    let kinds = summary.check.kinds();
    let (allowed, rest): (Vec<ViolationKind>, Vec<ViolationKind>) =
        kinds.into_iter().partition(|kind| tolerated.contains(kind));
    let (open, kept): (Vec<ViolationKind>, Vec<ViolationKind>) =
        rest.into_iter().partition(|kind| summary.known_open.contains(kind));
    let mut verdict = match kept.is_empty() {
        true => "ok".to_owned(),
        false => format!("VIOLATIONS: {}", named(kept)),
    };
    if !open.is_empty() {
        verdict.push_str(&format!(" (OPEN bugs: {})", named(open)));
    }
    if !allowed.is_empty() {
        verdict.push_str(&format!(" (as designed: {})", named(allowed)));
    }
    format!(
        "{:<15} {verdict}; {} ops ({} unknown), {} sessions; silent: {}",
        summary.strategy,
        counts.operations,
        counts.unknown,
        counts.sessions,
        faults.join(", ")
    )
}

/// The markdown tables: performance and cost, then outcomes under faults.
pub fn markdown(summaries: &[StrategySummary]) -> String {
    let mut out = String::new();
    out.push_str(
        "| strategy | validate req/s | validate p99 ms | patch req/s | patch p99 ms | client B/req | node↔node/store B per validate | per patch | memory B/session/node |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for summary in summaries {
        let r = &summary.resources;
        let (patch_rate, patch_p99, patch_backend) = match &r.patch {
            Some(patch) => (
                format!("{:.0}", patch.per_sec),
                format!("{:.2}", patch.p99_ms),
                format!("{:.0}", patch.backend_bytes_per_request),
            ),
            None => ("—".to_owned(), "—".to_owned(), "—".to_owned()),
        };
        let _ = writeln!(
            out,
            "| {} | {:.0} | {:.2} | {patch_rate} | {patch_p99} | {:.0} | {:.0} | {patch_backend} | {:.0} |",
            summary.strategy,
            r.validate.per_sec,
            r.validate.p99_ms,
            r.validate.bytes_per_request,
            r.validate.backend_bytes_per_request,
            r.memory_per_session
        );
    }
    out.push_str("\n| strategy | fault | ops | failed % | silent s | sessions lost | writes lost | revocations undone | other violations |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    for summary in summaries {
        for fault in &summary.faults {
            let count = |kind| fault.violations.get(&kind).copied().unwrap_or(0);
            let others: Vec<String> = fault
                .violations
                .iter()
                .filter(|(kind, _)| {
                    !matches!(
                        kind,
                        ViolationKind::SessionLost
                            | ViolationKind::LostWrite
                            | ViolationKind::LostDocEdit
                            | ViolationKind::RevocationUndone
                    )
                })
                .map(|(kind, n)| format!("{n} {kind}"))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.1} | {:.1} | {} | {} | {} | {} |",
                summary.strategy,
                fault.fault.name(),
                fault.operations,
                fault.failed_percent,
                fault.unavailable_secs,
                count(ViolationKind::SessionLost),
                count(ViolationKind::LostWrite) + count(ViolationKind::LostDocEdit),
                count(ViolationKind::RevocationUndone),
                if others.is_empty() { "—".to_owned() } else { others.join(", ") }
            );
        }
        let counts = &summary.check.counts;
        let _ = writeln!(
            out,
            "| {} | **end state** | {} | | | {} | {} | {} | {} unchecked |",
            summary.strategy,
            counts.operations,
            counts.sessions_lost,
            counts.writes_lost,
            counts.revocations_undone,
            counts.unchecked
        );
    }
    out
}

/// The fault kinds a set of summaries covers, in schedule order, for charts.
pub fn fault_kinds(summaries: &[StrategySummary]) -> Vec<FaultKind> {
    let mut kinds: Vec<FaultKind> = summaries.iter().flat_map(|s| s.faults.iter().map(|f| f.fault)).collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{CheckReport, Violation};
    use crate::report::{FaultSummary, Resources};

    fn summary(kinds: &[ViolationKind], tolerated: Vec<ViolationKind>) -> StrategySummary {
        let mut check = CheckReport::default();
        for kind in kinds {
            check.push(Violation {
                kind: *kind,
                subject: "s1".into(),
                ops: vec![1, 2],
                detail: String::new(),
            });
        }
        let fault = FaultSummary {
            fault: FaultKind::Kill,
            operations: 10,
            failed_percent: 20.0,
            unavailable_secs: 2.25,
            violations: [(ViolationKind::SessionLost, kinds.len())].into_iter().collect(),
        };
        StrategySummary {
            strategy: "x",
            check,
            faults: vec![fault],
            resources: Resources::default(),
            tolerated,
            known_open: vec![ViolationKind::StaleRead],
        }
    }

    #[test]
    fn the_line_says_ok_only_when_every_violation_is_one_the_strategy_tolerates() {
        assert!(line(&summary(&[], vec![])).contains(" ok; "));
        let broken = line(&summary(&[ViolationKind::SessionLost], vec![]));
        assert!(broken.contains("VIOLATIONS: 1 session-lost"), "{broken}");
        let designed = line(&summary(&[ViolationKind::SessionLost], vec![ViolationKind::SessionLost]));
        assert!(designed.contains("ok (as designed: 1 session-lost)"), "{designed}");
        assert!(designed.contains("kill 2.2 s") || designed.contains("kill 2.3 s"), "{designed}");
        let open = line(&summary(&[ViolationKind::StaleRead], vec![]));
        assert!(open.contains("ok (OPEN bugs: 1 stale-read)"), "{open}");
        let open = line(&summary(&[ViolationKind::StaleRead], vec![]));
        assert!(open.contains("ok (OPEN bugs: 1 stale-read)"), "{open}");
    }

    #[test]
    fn the_fault_table_has_a_row_per_fault_and_one_for_the_end_state() {
        let table = markdown(&[summary(&[ViolationKind::SessionLost], vec![])]);
        assert!(
            table.contains("| x | kill | 10 | 20.0 | 2.2 | 1 | 0 | 0 | — |")
                || table.contains("| x | kill | 10 | 20.0 | 2.3 | 1 | 0 | 0 | — |"),
            "{table}"
        );
        assert!(table.contains("| x | **end state** |"), "{table}");
    }
}
