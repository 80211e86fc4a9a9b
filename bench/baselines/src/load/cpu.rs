//! CPU time of processes on this machine (the servers, Redis, the load generator itself), read
//! from `/proc/<pid>/stat`, so a run can say where the two cores went per request.

use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat`'s times: `USER_HZ`, 100 on every Linux
/// architecture this runs on (the kernel fixes it for user space whatever `CONFIG_HZ` is).
const TICKS_PER_SEC: u64 = 100;

/// User + system CPU time `pid` has used, or `None` when it cannot be read (no such process, not
/// Linux).
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat)
}

/// utime + stime from the text of `/proc/<pid>/stat`. The command name (field 2) may contain
/// spaces and parentheses, so fields are counted after its last `)`.
fn parse_stat(stat: &str) -> Option<Duration> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11); // field 3 (state) is index 0; 14 is 11
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 1000 / TICKS_PER_SEC))
}

/// CPU time of several processes at one moment.
#[derive(Clone, Debug)]
pub struct Snapshot(Vec<Option<Duration>>);

impl Snapshot {
    /// Reads the CPU time of each of `pids`, in order.
    pub fn take(pids: &[u32]) -> Self {
        Self(pids.iter().map(|pid| cpu_time(*pid)).collect())
    }

    /// CPU time each process used since `earlier` (same pids, same order).
    pub fn since(&self, earlier: &Snapshot) -> Vec<Option<Duration>> {
        self.0
            .iter()
            .zip(&earlier.0)
            .map(|(now, then)| Some(now.as_ref()?.saturating_sub(*then.as_ref()?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime_after_the_command_name() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1 2 3";
        assert_eq!(parse_stat(stat), Some(Duration::from_secs(3)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn this_process_has_used_some_cpu() {
        let pid = std::process::id();
        let first = Snapshot::take(&[pid, u32::MAX]);
        let spin = (0..2_000_000u64).fold(0u64, |acc, x| acc.wrapping_add(x * x));
        assert!(spin > 0);
        let used = Snapshot::take(&[pid, u32::MAX]).since(&first);
        assert!(used[0].is_some() && used[1].is_none(), "{used:?}");
    }
}
