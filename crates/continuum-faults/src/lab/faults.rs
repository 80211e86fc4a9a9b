//! [`Faults`]: which `tc` filter goes where for a cut, an isolation or a delay, and the steps
//! that add and remove them. Pure: the lab's runtime runs the [`Action`]s.
//!
//! This machine's kernel has neither `netem`, `prio` nor the `gact` drop action (`tc` answers
//! "Specified qdisc kind is unknown"); it has HTB, FIFOs, `clsact`, `u32` and `mirred`. So:
//! - **A drop** is an HTB class whose leaf is `pfifo limit 0`: a packet a `u32` filter sends there
//!   is discarded when queued. No RST, no ICMP: a connect or a read hangs. Unfiltered traffic
//!   goes through HTB's direct queue, unshaped (the root has no default class).
//! - **A delay** is a `mirred` redirect, on a host's ingress, to a TUN device inside the host's
//!   namespace, where a delay line (`super::delay`) holds each packet for the delay and writes it
//!   back into the host's stack.
//!
//! Every host has three hooks:
//! - *out*: the egress of its `eth0`, in its namespace — everything it sends;
//! - *in*: the egress of its root-side veth end, a bridge port — everything it receives;
//! - *arrive*: the ingress of its `eth0` — where delayed packets are diverted.
//!
//! A cut between hosts drops at both hosts' *out*; a cut from the service drops at the host's
//! *out* (toward the service) and *in* (from it), so neither direction crosses. A delay is one
//! way: `delay(a, b, ms)` holds what `a` receives from `b`, so a round trip between them grows by
//! `ms` whichever side starts it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use super::layout::{HOST_IF, Layout, LayoutError};
use super::step::Step;

/// The HTB class whose `pfifo limit 0` leaf discards what is sent to it.
const DROP_CLASS: &str = "1:1";

/// A fault the lab cannot apply as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    /// A host index beyond the lab's hosts.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// A fault between a host and itself.
    #[error("a fault needs two different hosts, not {host} twice")]
    SameHost {
        /// The host given twice.
        host: usize,
    },
}

/// What the runtime does to apply a fault, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Run a command.
    Run(Step),
    /// Make sure the host's delay line runs (its TUN device must exist before a filter names it).
    StartDelayLine {
        /// The host.
        host: usize,
    },
    /// Tell the host's delay line to hold packets from `source` for `ms`.
    SetDelay {
        /// The host.
        host: usize,
        /// The sender whose packets are held.
        source: Ipv4Addr,
        /// Milliseconds.
        ms: u32,
    },
    /// Stop every delay line, after the filters feeding them are gone.
    StopDelayLines,
}

/// Where a drop filter sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum DropHook {
    /// Packets the host sends to the address.
    Out(usize),
    /// Packets the host receives from the address.
    In(usize),
}

/// The faults in force and the steps to change them.
#[derive(Clone, Debug)]
pub struct Faults {
    layout: Layout,
    drops: BTreeSet<(DropHook, Ipv4Addr)>,
    delays: BTreeMap<(usize, Ipv4Addr), u32>,
}

impl Faults {
    /// No faults, in `layout`.
    pub fn new(layout: Layout) -> Self {
        Self { layout, drops: BTreeSet::new(), delays: BTreeMap::new() }
    }

    /// `true` when no fault is in force.
    pub fn is_healed(&self) -> bool {
        self.drops.is_empty() && self.delays.is_empty()
    }

    /// Drops every packet between hosts `a` and `b`, both ways.
    pub fn cut(&mut self, a: usize, b: usize) -> Result<Vec<Action>, FaultError> {
        let (a, b) = self.pair(a, b)?;
        let (ip_a, ip_b) = (self.layout.host_ip(a), self.layout.host_ip(b));
        Ok([self.drop(DropHook::Out(a), ip_b), self.drop(DropHook::Out(b), ip_a)]
            .into_iter()
            .flatten()
            .collect())
    }

    /// Drops every packet between host `a` and the service address, both ways.
    pub fn cut_service(&mut self, a: usize) -> Result<Vec<Action>, FaultError> {
        let a = self.layout.host(a)?;
        let service = self.layout.service_ip();
        Ok([self.drop(DropHook::Out(a), service), self.drop(DropHook::In(a), service)]
            .into_iter()
            .flatten()
            .collect())
    }

    /// Cuts host `a` from every other host and from the service; the client address still
    /// reaches it (the runner keeps observing it).
    pub fn isolate(&mut self, a: usize) -> Result<Vec<Action>, FaultError> {
        let a = self.layout.host(a)?;
        let mut actions = Vec::new();
        for b in (0..self.layout.hosts()).filter(|&b| b != a) {
            actions.extend(self.cut(a, b)?);
        }
        actions.extend(self.cut_service(a)?);
        Ok(actions)
    }

    /// Holds every packet host `a` receives from host `b` for `ms` (one way; a round trip grows
    /// by `ms`). Calling it again changes the delay; `0` keeps the path with no delay.
    pub fn delay(&mut self, a: usize, b: usize, ms: u32) -> Result<Vec<Action>, FaultError> {
        let (a, b) = self.pair(a, b)?;
        let source = self.layout.host_ip(b);
        Ok(self.delay_from(a, source, ms))
    }

    /// Holds every packet host `a` receives from the service address for `ms`.
    pub fn delay_service(&mut self, a: usize, ms: u32) -> Result<Vec<Action>, FaultError> {
        let a = self.layout.host(a)?;
        let source = self.layout.service_ip();
        Ok(self.delay_from(a, source, ms))
    }

    /// Removes every fault: all filters on every host (whatever this table believes, so a heal
    /// also clears what a failed step left), then the delay lines.
    pub fn heal(&mut self) -> Vec<Action> {
        self.drops.clear();
        self.delays.clear();
        let mut actions = Vec::new();
        for host in 0..self.layout.hosts() {
            let ns = self.layout.netns(host);
            let veth = self.layout.root_veth(host);
            actions.push(Action::Run(tc(Some(&ns), ["filter", "del", "dev", HOST_IF, "parent", "1:"])));
            actions.push(Action::Run(tc(Some(&ns), ["filter", "del", "dev", HOST_IF, "ingress"])));
            actions.push(Action::Run(tc(None, ["filter", "del", "dev", &veth, "parent", "1:"])));
        }
        actions.push(Action::StopDelayLines);
        actions
    }

    fn pair(&self, a: usize, b: usize) -> Result<(usize, usize), FaultError> {
        let (a, b) = (self.layout.host(a)?, self.layout.host(b)?);
        if a == b {
            return Err(FaultError::SameHost { host: a });
        }
        Ok((a, b))
    }

    /// The filter for one drop, unless it is already in place.
    fn drop(&mut self, hook: DropHook, addr: Ipv4Addr) -> Option<Action> {
        if !self.drops.insert((hook, addr)) {
            return None;
        }
        let ip = format!("{addr}/32");
        // What a host sends is matched by destination in its namespace; what it receives, by
        // source at its bridge port.
        let (ns, dev, field) = match hook {
            DropHook::Out(host) => (Some(self.layout.netns(host)), HOST_IF.to_owned(), "dst"),
            DropHook::In(host) => (None, self.layout.root_veth(host), "src"),
        };
        let step = tc(
            ns.as_deref(),
            [
                "filter", "add", "dev", &dev, "parent", "1:", "protocol", "ip", "prio", "1", "u32", "match",
                "ip", field, &ip, "flowid", DROP_CLASS,
            ],
        );
        Some(Action::Run(step))
    }

    fn delay_from(&mut self, host: usize, source: Ipv4Addr, ms: u32) -> Vec<Action> {
        let first_on_host = !self.delays.keys().any(|&(h, _)| h == host);
        let known = self.delays.insert((host, source), ms).is_some();
        let mut actions = Vec::new();
        if first_on_host {
            actions.push(Action::StartDelayLine { host });
        }
        // The delay line knows the delay before the first packet is diverted to it.
        actions.push(Action::SetDelay { host, source, ms });
        if !known {
            let ip = format!("{source}/32");
            let device = self.layout.delay_device(host);
            actions.push(Action::Run(tc(
                Some(&self.layout.netns(host)),
                [
                    "filter", "add", "dev", HOST_IF, "ingress", "protocol", "ip", "prio", "1", "u32",
                    "match", "ip", "src", &ip, "action", "mirred", "egress", "redirect", "dev", &device,
                ],
            )));
        }
        actions
    }
}

/// The hooks every host starts with: an HTB root with the drop class on its `eth0` and on its
/// root-side veth end, and a `clsact` on its `eth0` for the delay redirects.
pub fn base_steps(layout: &Layout, host: usize) -> Vec<Step> {
    let ns = layout.netns(host);
    let veth = layout.root_veth(host);
    let mut steps = drop_class_steps(Some(&ns), HOST_IF);
    steps.push(tc(Some(&ns), ["qdisc", "add", "dev", HOST_IF, "clsact"]));
    steps.extend(drop_class_steps(None, &veth));
    steps
}

fn drop_class_steps(ns: Option<&str>, dev: &str) -> Vec<Step> {
    vec![
        tc(ns, ["qdisc", "add", "dev", dev, "root", "handle", "1:", "htb"]),
        tc(ns, ["class", "add", "dev", dev, "parent", "1:", "classid", DROP_CLASS, "htb", "rate", "1mbit"]),
        tc(ns, ["qdisc", "add", "dev", dev, "parent", DROP_CLASS, "handle", "10:", "pfifo", "limit", "0"]),
    ]
}

/// `tc [-n ns] args…`.
fn tc<'a>(ns: Option<&str>, args: impl IntoIterator<Item = &'a str>) -> Step {
    let mut argv = vec!["tc".to_owned()];
    if let Some(ns) = ns {
        argv.extend(["-n".to_owned(), ns.to_owned()]);
    }
    argv.extend(args.into_iter().map(str::to_owned));
    Step::new(argv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .map(|action| match action {
                Action::Run(step) => step.to_string(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn faults() -> Faults {
        Faults::new(Layout::new(3, 3).unwrap())
    }

    #[test]
    fn a_cut_drops_at_both_hosts_egress_toward_each_other_once() {
        let mut faults = faults();
        assert_eq!(
            lines(&faults.cut(0, 1).unwrap()),
            [
                "tc -n cf3h0 filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.231.3.12/32 flowid 1:1",
                "tc -n cf3h1 filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.231.3.11/32 flowid 1:1",
            ]
        );
        assert!(faults.cut(1, 0).unwrap().is_empty(), "the same cut again adds no filter");
        assert!(!faults.is_healed());
    }

    #[test]
    fn a_service_cut_drops_what_the_host_sends_to_and_receives_from_the_service() {
        assert_eq!(
            lines(&faults().cut_service(2).unwrap()),
            [
                "tc -n cf3h2 filter add dev eth0 parent 1: protocol ip prio 1 u32 match ip dst 10.231.3.2/32 flowid 1:1",
                "tc filter add dev cf3h2 parent 1: protocol ip prio 1 u32 match ip src 10.231.3.2/32 flowid 1:1",
            ]
        );
    }

    #[test]
    fn isolation_cuts_every_other_host_and_the_service_but_never_the_client() {
        let mut faults = faults();
        faults.cut(0, 2).unwrap();
        let lines = lines(&faults.isolate(0).unwrap());
        assert_eq!(lines.len(), 2 + 2, "0-1 and the service, both ways; 0-2 was cut already: {lines:#?}");
        assert!(lines.iter().any(|l| l.contains("cf3h0 ") && l.ends_with("dst 10.231.3.12/32 flowid 1:1")));
        assert!(lines.iter().any(|l| l.contains("cf3h1 ") && l.ends_with("dst 10.231.3.11/32 flowid 1:1")));
        assert!(lines.iter().any(|l| l.ends_with("src 10.231.3.2/32 flowid 1:1")));
        assert!(lines.iter().all(|l| !l.contains("10.231.3.1/")), "the client address is never cut");
    }

    #[test]
    fn a_delay_starts_the_line_sets_the_delay_before_diverting_and_a_change_only_sets_it() {
        let mut faults = faults();
        let first = faults.delay(1, 0, 200).unwrap();
        assert_eq!(first[0], Action::StartDelayLine { host: 1 });
        assert_eq!(first[1], Action::SetDelay { host: 1, source: Ipv4Addr::new(10, 231, 3, 11), ms: 200 });
        assert_eq!(
            lines(&first[2..]),
            ["tc -n cf3h1 filter add dev eth0 ingress protocol ip prio 1 u32 match ip src 10.231.3.11/32 \
              action mirred egress redirect dev cf3d1"]
        );
        assert_eq!(
            faults.delay(1, 0, 50).unwrap(),
            [Action::SetDelay { host: 1, source: Ipv4Addr::new(10, 231, 3, 11), ms: 50 }]
        );
        let service = faults.delay_service(1, 10).unwrap();
        assert_eq!(service.len(), 2, "the line already runs: set and divert only");
        assert!(lines(&service)[1].contains("match ip src 10.231.3.2/32"));
    }

    #[test]
    fn heal_clears_every_hook_of_every_host_then_stops_the_delay_lines() {
        let mut faults = faults();
        faults.cut(0, 1).unwrap();
        faults.delay(2, 0, 5).unwrap();
        let actions = faults.heal();
        assert!(faults.is_healed());
        assert_eq!(actions.len(), 3 * 3 + 1);
        assert_eq!(actions.last(), Some(&Action::StopDelayLines));
        let lines = lines(&actions);
        for host in 0..3 {
            assert!(lines.contains(&format!("tc -n cf3h{host} filter del dev eth0 parent 1:")));
            assert!(lines.contains(&format!("tc -n cf3h{host} filter del dev eth0 ingress")));
            assert!(lines.contains(&format!("tc filter del dev cf3h{host} parent 1:")));
        }
        assert_eq!(faults.cut(0, 1).unwrap().len(), 2, "after a heal the same cut is new again");
    }

    #[test]
    fn bad_hosts_are_refused_before_anything_changes() {
        let mut faults = faults();
        assert_eq!(faults.cut(1, 1), Err(FaultError::SameHost { host: 1 }));
        assert_eq!(
            faults.delay(0, 3, 1),
            Err(FaultError::Layout(LayoutError::NoSuchHost { host: 3, hosts: 3 }))
        );
        assert!(matches!(faults.isolate(7), Err(FaultError::Layout(_))));
        assert!(faults.is_healed());
    }

    #[test]
    fn base_hooks_give_each_side_a_drop_class_and_the_host_a_clsact() {
        let lines: Vec<String> =
            base_steps(&Layout::new(3, 1).unwrap(), 0).iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "tc -n cf3h0 qdisc add dev eth0 root handle 1: htb",
                "tc -n cf3h0 class add dev eth0 parent 1: classid 1:1 htb rate 1mbit",
                "tc -n cf3h0 qdisc add dev eth0 parent 1:1 handle 10: pfifo limit 0",
                "tc -n cf3h0 qdisc add dev eth0 clsact",
                "tc qdisc add dev cf3h0 root handle 1: htb",
                "tc class add dev cf3h0 parent 1: classid 1:1 htb rate 1mbit",
                "tc qdisc add dev cf3h0 parent 1:1 handle 10: pfifo limit 0",
            ]
        );
    }
}
