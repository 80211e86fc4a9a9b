//! [`summarize`]: a strategy's history, schedule and measurements as the figures of the
//! comparison.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::check::{CheckReport, ViolationKind};
use crate::history::{Outcome, Record};
use crate::runner::perf::Throughput;
use crate::runner::schedule::{FaultKind, Window};
use crate::runner::strategy::Strategy;

/// What one fault did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultSummary {
    /// Which fault.
    pub fault: FaultKind,
    /// Operations that started inside the window (fault and the quiet time after it).
    pub operations: usize,
    /// Of them, the share that got no definite answer or a 5xx, in percent.
    pub failed_percent: f64,
    /// The longest stretch in the window with no operation answered with a success, seconds:
    /// "seconds until the service answers again".
    pub unavailable_secs: f64,
    /// Violations whose breaking operation started in the window, by kind.
    pub violations: BTreeMap<ViolationKind, usize>,
}

/// Memory and wire cost, measured without faults.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Resources {
    /// Validate throughput.
    pub validate: Throughput,
    /// Patch throughput (none for sealed sessions, which cannot be patched).
    pub patch: Option<Throughput>,
    /// RSS growth per session created, averaged over the nodes, bytes.
    pub memory_per_session: f64,
}

/// One strategy's row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StrategySummary {
    /// Which strategy.
    pub strategy: &'static str,
    /// The checker's result.
    pub check: CheckReport,
    /// Per fault, in schedule order.
    pub faults: Vec<FaultSummary>,
    /// The fault-free measurements.
    pub resources: Resources,
    /// The violation kinds the strategy does not promise to avoid ([`Strategy::tolerated`]).
    pub tolerated: Vec<ViolationKind>,
    /// The violation kinds that are known open bugs of the strategy ([`Strategy::known_open`]).
    pub known_open: Vec<ViolationKind>,
}

/// Builds the summary of `strategy` from its `history` (checked into `check`) and the fault
/// `windows`, each window extending to the next one's start (or `end`).
pub fn summarize(
    strategy: Strategy,
    history: &[Record],
    check: CheckReport,
    windows: &[Window],
    end: Duration,
    resources: Resources,
) -> StrategySummary {
    let by_id: BTreeMap<u64, &Record> = history.iter().map(|record| (record.id, record)).collect();
    let mut faults = Vec::new();
    for (i, window) in windows.iter().enumerate() {
        let from = micros(window.start);
        let to = windows.get(i + 1).map_or(micros(end), |next| micros(next.start));
        let inside: Vec<&Record> = history
            .iter()
            .filter(|record| !record.final_read && (from..to).contains(&record.start_us))
            .collect();
        let failed = inside
            .iter()
            .filter(|record| match &record.outcome {
                Outcome::Unknown { .. } => true,
                Outcome::Refused { status, .. } => *status >= 500,
                Outcome::Ok(_) => false,
            })
            .count();
        let mut violations = BTreeMap::new();
        for violation in &check.violations {
            let breaking = violation.ops.last().and_then(|id| by_id.get(id));
            if breaking.is_some_and(|record| !record.final_read && (from..to).contains(&record.start_us)) {
                *violations.entry(violation.kind).or_insert(0) += 1;
            }
        }
        faults.push(FaultSummary {
            fault: window.fault,
            operations: inside.len(),
            failed_percent: 100.0 * failed as f64 / inside.len().max(1) as f64,
            unavailable_secs: longest_silence(history, from, to) as f64 / 1e6,
            violations,
        });
    }
    StrategySummary {
        strategy: strategy.name(),
        check,
        faults,
        resources,
        tolerated: strategy.tolerated().to_vec(),
        known_open: strategy.known_open().to_vec(),
    }
}

/// The longest time in `[from, to)` between two successes (or the window's edges), µs.
fn longest_silence(history: &[Record], from: u64, to: u64) -> u64 {
    let mut ends: Vec<u64> = history
        .iter()
        .filter(|record| !record.final_read && record.outcome.is_ok() && (from..to).contains(&record.end_us))
        .map(|record| record.end_us)
        .collect();
    ends.sort_unstable();
    let mut last = from;
    let mut longest = 0;
    for end in ends.into_iter().chain([to]) {
        longest = longest.max(end - last);
        last = end;
    }
    longest
}

fn micros(at: Duration) -> u64 {
    u64::try_from(at.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{Observed, Op, SessionRef};

    fn record(id: u64, start_ms: u64, end_ms: u64, ok: bool) -> Record {
        Record {
            id,
            client: 0,
            route: "n0".into(),
            start_us: start_ms * 1_000,
            end_us: end_ms * 1_000,
            final_read: false,
            op: Op::Validate { session: SessionRef("s".into()) },
            outcome: match ok {
                true => Outcome::Ok(Observed::default()),
                false => Outcome::Unknown { reason: "timeout".into() },
            },
        }
    }

    #[test]
    fn the_longest_silence_runs_from_the_fault_to_the_first_success_after_it() {
        let window = |fault, start, end| Window {
            fault,
            node: Some(0),
            start: Duration::from_millis(start),
            end: Duration::from_millis(end),
        };
        let history = vec![
            record(1, 900, 950, true),
            record(2, 1_000, 3_000, false),
            record(3, 3_000, 3_400, true),
            record(4, 3_500, 3_600, true),
            record(5, 4_100, 4_200, true),
        ];
        let windows = [window(FaultKind::Kill, 1_000, 2_000), window(FaultKind::Pause, 4_000, 4_500)];
        let summary = summarize(
            Strategy::Redb,
            &history,
            CheckReport::default(),
            &windows,
            Duration::from_millis(5_000),
            Resources::default(),
        );
        let kill = &summary.faults[0];
        assert_eq!(kill.operations, 3);
        assert!((kill.unavailable_secs - 2.4).abs() < 1e-9, "{kill:?}");
        assert!((kill.failed_percent - 100.0 / 3.0).abs() < 1e-9);
        // The pause window: a success 200 ms in, then silence to the end at 5 s.
        assert!((summary.faults[1].unavailable_secs - 0.8).abs() < 1e-9, "{:?}", summary.faults[1]);
    }
}
