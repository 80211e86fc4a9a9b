//! [`Layout`]: a lab's names and addresses, derived from its slot, and the steps that build and
//! remove it. Pure: nothing here runs a command.
//!
//! Slot `n` owns the bridge `cf<n>br`, the namespaces `cf<n>h<i>` (one per host), the root-side
//! veth ends of the same names, the delay devices `cf<n>d<i>` inside the namespaces, and the
//! subnet `10.231.<n>.0/24`.

use std::net::Ipv4Addr;

use super::step::Step;

/// How many labs can exist on the machine at once (slots `0..SLOTS`).
pub const SLOTS: u8 = 64;

/// The most hosts one lab may have.
pub const MAX_HOSTS: usize = 32;

/// The name of a host's interface inside its namespace (the other end is [`Layout::root_veth`]).
pub const HOST_IF: &str = "eth0";

/// The first host's last address byte: host `i` is `10.231.<n>.(HOST_BASE + i)`.
const HOST_BASE: u8 = 11;

/// Why a layout cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// The slot is outside `0..SLOTS`.
    #[error("slot {slot} is not below {SLOTS}")]
    BadSlot {
        /// The slot asked for.
        slot: u8,
    },
    /// No hosts, or more than [`MAX_HOSTS`].
    #[error("a lab has 1 to {MAX_HOSTS} hosts, not {hosts}")]
    BadHostCount {
        /// The count asked for.
        hosts: usize,
    },
    /// A host index beyond the lab's hosts.
    #[error("host {host} does not exist (the lab has {hosts})")]
    NoSuchHost {
        /// The index asked for.
        host: usize,
        /// How many hosts there are.
        hosts: usize,
    },
}

/// The names and addresses of one lab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    slot: u8,
    hosts: usize,
}

impl Layout {
    /// The layout of `hosts` hosts in `slot`.
    pub fn new(slot: u8, hosts: usize) -> Result<Self, LayoutError> {
        if slot >= SLOTS {
            return Err(LayoutError::BadSlot { slot });
        }
        if hosts == 0 || hosts > MAX_HOSTS {
            return Err(LayoutError::BadHostCount { hosts });
        }
        Ok(Self { slot, hosts })
    }

    /// The slot, which numbers the names and the subnet.
    pub fn slot(&self) -> u8 {
        self.slot
    }

    /// How many hosts.
    pub fn hosts(&self) -> usize {
        self.hosts
    }

    /// `Ok(host)` if the lab has it.
    pub fn host(&self, host: usize) -> Result<usize, LayoutError> {
        if host < self.hosts { Ok(host) } else { Err(LayoutError::NoSuchHost { host, hosts: self.hosts }) }
    }

    /// `10.231.<n>.1`, on the bridge: where load generators and the gateway connect from.
    pub fn client_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 231, self.slot, 1)
    }

    /// `10.231.<n>.2`, on the bridge: where root-namespace stores are exposed to the hosts.
    pub fn service_ip(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 231, self.slot, 2)
    }

    /// `10.231.<n>.(11 + host)`. Panics if the host does not exist (use [`Layout::host`] first).
    pub fn host_ip(&self, host: usize) -> Ipv4Addr {
        let host = self.host(host).expect("host index checked by the caller");
        Ipv4Addr::new(10, 231, self.slot, HOST_BASE + host as u8)
    }

    /// The bridge in the root namespace.
    pub fn bridge(&self) -> String {
        format!("cf{}br", self.slot)
    }

    /// The network namespace of a host.
    pub fn netns(&self, host: usize) -> String {
        format!("cf{}h{}", self.slot, host)
    }

    /// The root-side end of a host's veth pair, a port of the bridge; named like the namespace.
    pub fn root_veth(&self, host: usize) -> String {
        self.netns(host)
    }

    /// The TUN device inside a host's namespace through which its delayed packets pass.
    pub fn delay_device(&self, host: usize) -> String {
        format!("cf{}d{}", self.slot, host)
    }

    /// Builds the bridge, then each host: namespace, veth pair, addresses. The base of each
    /// host's fault hooks comes after (`super::faults::base_steps`).
    pub fn create_steps(&self) -> Vec<Step> {
        let bridge = self.bridge();
        let mut steps = vec![
            // A fixed address: a bridge otherwise takes its lowest port's, which changes as ports
            // join and leaves the hosts' ARP entries for it stale.
            Step::new(["ip", "link", "add", &bridge, "address", &self.bridge_mac(), "type", "bridge"]),
            disable_ipv6(&bridge),
            Step::new(["ip", "addr", "add", &format!("{}/24", self.client_ip()), "dev", &bridge]),
            Step::new(["ip", "addr", "add", &format!("{}/24", self.service_ip()), "dev", &bridge]),
            Step::new(["ip", "link", "set", &bridge, "up"]),
        ];
        for host in 0..self.hosts {
            steps.extend(self.host_steps(host));
        }
        steps
    }

    fn host_steps(&self, host: usize) -> Vec<Step> {
        let ns = self.netns(host);
        let veth = self.root_veth(host);
        let steps = vec![
            Step::new(["ip", "netns", "add", &ns]),
            // No IPv6 inside: no router solicitations or MLD reports in the byte counters, and
            // devices made later (the delay device) inherit `default`.
            Step::best_effort([
                "ip",
                "netns",
                "exec",
                &ns,
                "sysctl",
                "-q",
                "-w",
                "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1",
            ]),
            // Delayed packets come back through the delay device, a path a strict reverse-path
            // filter rejects; a new namespace inherits the root's IPv4 settings.
            Step::new([
                "ip",
                "netns",
                "exec",
                &ns,
                "sysctl",
                "-q",
                "-w",
                "net.ipv4.conf.all.rp_filter=0",
                "net.ipv4.conf.default.rp_filter=0",
            ]),
            Step::new(["ip", "link", "add", &veth, "type", "veth", "peer", "name", HOST_IF, "netns", &ns]),
            disable_ipv6(&veth),
            Step::new(["ip", "link", "set", &veth, "master", &self.bridge(), "up"]),
            Step::new([
                "ip",
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{}/24", self.host_ip(host)),
                "dev",
                HOST_IF,
            ]),
            Step::new(["ip", "-n", &ns, "link", "set", HOST_IF, "up"]),
            Step::new(["ip", "-n", &ns, "link", "set", "lo", "up"]),
        ];
        steps
    }

    fn bridge_mac(&self) -> String {
        format!("02:cf:{:02x}:00:00:01", self.slot)
    }
}

fn disable_ipv6(interface: &str) -> Step {
    Step::best_effort(["sysctl", "-q", "-w", &format!("net.ipv6.conf.{interface}.disable_ipv6=1")])
}

/// What a slot left on the machine: its namespaces and its root-namespace links.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Leftovers {
    /// Namespaces named after the slot.
    pub namespaces: Vec<String>,
    /// Root-namespace links named after the slot (its bridge and veth ends).
    pub links: Vec<String>,
}

impl Leftovers {
    /// Picks, out of every namespace and every link on the machine, those of `slot`.
    pub fn of_slot<'a>(
        slot: u8,
        namespaces: impl IntoIterator<Item = &'a str>,
        links: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mine = |name: &&str| slot_of(name) == Some(slot);
        Self {
            namespaces: namespaces.into_iter().filter(mine).map(str::to_owned).collect(),
            links: links.into_iter().filter(mine).map(str::to_owned).collect(),
        }
    }

    /// `true` if nothing is left.
    pub fn is_empty(&self) -> bool {
        self.namespaces.is_empty() && self.links.is_empty()
    }

    /// Removes the links first (a veth end held by a lingering process would outlive its
    /// namespace), then the namespaces. Killing what still runs inside comes before, at runtime.
    pub fn teardown_steps(&self) -> Vec<Step> {
        let links = self.links.iter().map(|link| Step::best_effort(["ip", "link", "del", link]));
        let namespaces = self.namespaces.iter().map(|ns| Step::best_effort(["ip", "netns", "del", ns]));
        links.chain(namespaces).collect()
    }
}

/// The slot a lab name belongs to: `cf<n>br`, `cf<n>h<i>` or `cf<n>d<i>`; `None` for any other
/// name (`cf1h0` is slot 1's, never slot 10's).
pub fn slot_of(name: &str) -> Option<u8> {
    let rest = name.strip_prefix("cf")?;
    let digits = rest.find(|c: char| !c.is_ascii_digit())?;
    let (slot, tail) = rest.split_at(digits);
    let slot_number: u8 = slot.parse().ok()?;
    if slot_number.to_string() != slot {
        return None; // `cf01h0` is nobody's
    }
    let index_ok = |index: &str| !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit());
    let kind_ok = tail == "br" || tail.strip_prefix(['h', 'd']).is_some_and(index_ok);
    (kind_ok && slot_number < SLOTS).then_some(slot_number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses_follow_the_slot_and_fit_interface_names() {
        let layout = Layout::new(63, MAX_HOSTS).unwrap();
        assert_eq!(layout.bridge(), "cf63br");
        assert_eq!(layout.netns(31), "cf63h31");
        assert_eq!(layout.delay_device(31), "cf63d31");
        for name in [layout.bridge(), layout.root_veth(31), layout.delay_device(31)] {
            assert!(name.len() <= 15, "{name} is too long for an interface name");
        }
        assert_eq!(layout.client_ip(), Ipv4Addr::new(10, 231, 63, 1));
        assert_eq!(layout.service_ip(), Ipv4Addr::new(10, 231, 63, 2));
        assert_eq!(layout.host_ip(0), Ipv4Addr::new(10, 231, 63, 11));
        assert_eq!(layout.host_ip(31), Ipv4Addr::new(10, 231, 63, 42));
    }

    #[test]
    fn bad_slots_host_counts_and_hosts_are_refused() {
        assert_eq!(Layout::new(SLOTS, 2), Err(LayoutError::BadSlot { slot: SLOTS }));
        assert_eq!(Layout::new(0, 0), Err(LayoutError::BadHostCount { hosts: 0 }));
        assert_eq!(Layout::new(0, MAX_HOSTS + 1), Err(LayoutError::BadHostCount { hosts: MAX_HOSTS + 1 }));
        let layout = Layout::new(0, 2).unwrap();
        assert_eq!(layout.host(1), Ok(1));
        assert_eq!(layout.host(2), Err(LayoutError::NoSuchHost { host: 2, hosts: 2 }));
    }

    #[test]
    fn create_steps_build_the_bridge_then_each_host_with_its_address() {
        let layout = Layout::new(5, 2).unwrap();
        let lines: Vec<String> = layout.create_steps().iter().map(ToString::to_string).collect();
        let at = |line: &str| {
            lines.iter().position(|l| l == line).unwrap_or_else(|| panic!("missing `{line}` in {lines:#?}"))
        };
        let bridge = at("ip link add cf5br address 02:cf:05:00:00:01 type bridge");
        let netns = at("ip netns add cf5h1");
        let veth = at("ip link add cf5h1 type veth peer name eth0 netns cf5h1");
        let addr = at("ip -n cf5h1 addr add 10.231.5.12/24 dev eth0");
        assert!(bridge < netns && netns < veth && veth < addr);
        at("ip addr add 10.231.5.1/24 dev cf5br");
        at("ip addr add 10.231.5.2/24 dev cf5br");
        at("ip link set cf5h0 master cf5br up");
        at("ip -n cf5h0 link set lo up");
        at("ip -n cf5h0 addr add 10.231.5.11/24 dev eth0");
    }

    #[test]
    fn leftovers_are_only_the_slots_own_names() {
        let namespaces = ["cf1h0", "cf1h3", "cf10h0", "cf1x0", "other", "cf1h", "cf01h0", "cf1hé"];
        let links = ["lo", "eth0", "cf1br", "cf10br", "cf1h0", "cf1d0", "cf1brx"];
        let left = Leftovers::of_slot(1, namespaces, links);
        assert_eq!(left.namespaces, ["cf1h0", "cf1h3"]);
        assert_eq!(left.links, ["cf1br", "cf1h0", "cf1d0"]);
        let lines: Vec<String> = left.teardown_steps().iter().map(ToString::to_string).collect();
        assert_eq!(lines.first().map(String::as_str), Some("ip link del cf1br"));
        assert_eq!(lines.last().map(String::as_str), Some("ip netns del cf1h3"));
        assert!(left.teardown_steps().iter().all(|step| !step.must_succeed));
        assert!(Leftovers::of_slot(2, namespaces, links).is_empty());
    }
}
