//! [`Lab`]: a Linux bridge in the root namespace and N network namespaces ("hosts") wired to it,
//! with faults (cuts, isolation, delays) between them. The runtime half: it runs what
//! [`Layout`] and [`Faults`] decide.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use super::delay::DelayLine;
use super::error::LabError;
use super::exec;
use super::faults::{Action, Faults};
use super::layout::{Layout, Leftovers, SLOTS};
use super::slot::{self, LOCK_DIR, SlotLock};
use super::step::Step;

/// Where `ip netns` keeps its namespaces.
const NETNS_DIR: &str = "/run/netns";
/// The root namespace's interfaces.
const NET_CLASS_DIR: &str = "/sys/class/net";

/// A bridge and `hosts` namespaces, each with a veth port on it.
///
/// Addresses: [`Lab::client_ip`] and [`Lab::service_ip`] on the bridge (root namespace),
/// [`Lab::host_ip`] inside host `i`. Every host reaches the root addresses and every other host
/// until a fault says otherwise. Faults drop or hold packets silently (no RST, no ICMP), so a
/// connect or read across a cut hangs rather than fails.
///
/// A fault whose `tc` step fails leaves the lab's faults unknown: [`Lab::heal`] clears every
/// filter of every host whatever was recorded, and starts from a clean state.
///
/// Removed by [`Lab::close`], or on drop (blocking for the few milliseconds its `ip` commands
/// take: prefer `close` from async code). Processes still running inside its namespaces are
/// killed on removal.
#[derive(Debug)]
pub struct Lab {
    layout: Layout,
    faults: Faults,
    lines: BTreeMap<usize, DelayLine>,
    /// `None` once closed.
    slot: Option<SlotLock>,
}

impl Lab {
    /// Says why no lab can be made here: not root, `ip`, `tc` or `python3` missing, no TUN
    /// driver. The fault suite prints this and fails; it must not skip.
    pub async fn check() -> Result<(), LabError> {
        let euid = rustix::process::geteuid().as_raw();
        if euid != 0 {
            return Err(LabError::NotRoot { euid });
        }
        let tools = [("ip", "-V", "iproute2"), ("tc", "-V", "iproute2"), ("python3", "--version", "python3")];
        for (tool, flag, package) in tools {
            exec::run(&Step::new([tool, flag])).await.map_err(|source| LabError::ToolMissing {
                tool,
                package,
                source,
            })?;
        }
        tokio::fs::metadata("/dev/net/tun").await.map_err(|source| LabError::NoTun { source })?;
        Ok(())
    }

    /// Makes a lab of `hosts` hosts in the lowest free slot, after removing what a dead holder
    /// of that slot left behind.
    pub async fn create(hosts: usize) -> Result<Self, LabError> {
        Layout::new(0, hosts)?;
        Self::check().await?;
        let lock = tokio::task::spawn_blocking(|| slot::acquire(Path::new(LOCK_DIR), SLOTS))
            .await
            .expect("the slot lookup does not panic")?;
        Self::create_in(lock, hosts).await
    }

    /// [`Lab::create`] in a slot the caller already holds ([`slot::acquire`]), after removing
    /// what an earlier holder of it left behind.
    pub async fn create_in(lock: SlotLock, hosts: usize) -> Result<Self, LabError> {
        let layout = Layout::new(lock.slot(), hosts)?;
        Self::check().await?;
        remove(lock.slot()).await?;
        let mut lab = Self { layout, faults: Faults::new(layout), lines: BTreeMap::new(), slot: Some(lock) };
        let mut steps = layout.create_steps();
        for host in 0..hosts {
            steps.extend(super::faults::base_steps(&layout, host));
        }
        if let Err(error) = exec::run_all(&steps).await {
            lab.remove().await.ok();
            return Err(error.into());
        }
        Ok(lab)
    }

    /// The slot, which numbers this lab's names and subnet.
    pub fn slot(&self) -> u8 {
        self.layout.slot()
    }

    /// How many hosts.
    pub fn hosts(&self) -> usize {
        self.layout.hosts()
    }

    /// Its names and addresses.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// `10.231.<slot>.1`: load generators and the gateway bind or connect from here.
    pub fn client_ip(&self) -> Ipv4Addr {
        self.layout.client_ip()
    }

    /// `10.231.<slot>.2`: where root-namespace services are exposed to the hosts (see
    /// [`super::Forwarder`]).
    pub fn service_ip(&self) -> Ipv4Addr {
        self.layout.service_ip()
    }

    /// `10.231.<slot>.(11 + host)`.
    ///
    /// # Panics
    /// If the lab has no such host.
    pub fn host_ip(&self, host: usize) -> Ipv4Addr {
        self.layout.host_ip(host)
    }

    /// The name of host `host`'s network namespace (for `ip netns exec`).
    ///
    /// # Panics
    /// If the lab has no such host.
    pub fn netns(&self, host: usize) -> String {
        self.layout.netns(self.layout.host(host).expect("no such host in the lab"))
    }

    /// A command running `program` inside host `host`'s namespace (`ip netns exec <ns>
    /// program`). `ip netns exec` execs, so the child's pid is the program's.
    ///
    /// # Panics
    /// If the lab has no such host.
    pub fn command(&self, host: usize, program: impl AsRef<OsStr>) -> tokio::process::Command {
        let mut command = tokio::process::Command::new("ip");
        command.args(["netns", "exec", &self.netns(host)]).arg(program);
        command
    }

    /// Adds `count` more root-side addresses to the bridge, `10.231.<n>.101` on, and returns
    /// them: sources for clients that must look like different machines (a gateway hashing
    /// client IPs). They go with the bridge when the lab is removed, and no fault touches them.
    pub async fn add_client_addresses(&mut self, count: usize) -> Result<Vec<Ipv4Addr>, LabError> {
        let client = self.client_ip().octets();
        let mut added = Vec::new();
        for k in 0..count.min(100) {
            let address = Ipv4Addr::new(client[0], client[1], client[2], 101 + k as u8);
            let step =
                Step::new(["ip", "addr", "add", &format!("{address}/24"), "dev", &self.layout.bridge()]);
            exec::run(&step).await?;
            added.push(address);
        }
        Ok(added)
    }

    /// Drops every packet between hosts `a` and `b`, both ways.
    pub async fn cut(&mut self, a: usize, b: usize) -> Result<(), LabError> {
        let actions = self.faults.cut(a, b)?;
        self.apply(actions).await
    }

    /// Drops every packet between host `a` and [`Lab::service_ip`], both ways.
    pub async fn cut_service(&mut self, a: usize) -> Result<(), LabError> {
        let actions = self.faults.cut_service(a)?;
        self.apply(actions).await
    }

    /// Cuts host `a` from every other host and from the service, but not from
    /// [`Lab::client_ip`]: the runner still reaches it.
    pub async fn isolate(&mut self, a: usize) -> Result<(), LabError> {
        let actions = self.faults.isolate(a)?;
        self.apply(actions).await
    }

    /// Holds every packet host `a` receives from host `b` for `ms` milliseconds. One way: a
    /// round trip between them, started by either, grows by `ms` (call `delay(b, a, ms)` too to
    /// slow both directions). Calling it again changes the delay.
    pub async fn delay(&mut self, a: usize, b: usize, ms: u32) -> Result<(), LabError> {
        let actions = self.faults.delay(a, b, ms)?;
        self.apply(actions).await
    }

    /// Holds every packet host `a` receives from [`Lab::service_ip`] for `ms` milliseconds; a
    /// round trip between them grows by `ms`.
    pub async fn delay_service(&mut self, a: usize, ms: u32) -> Result<(), LabError> {
        let actions = self.faults.delay_service(a, ms)?;
        self.apply(actions).await
    }

    /// Removes every fault: all filters on every host, then the delay lines (which first write
    /// back the packets they still hold).
    pub async fn heal(&mut self) -> Result<(), LabError> {
        let actions = self.faults.heal();
        self.apply(actions).await
    }

    /// `(received, sent)` bytes of host `host`'s interface: all its traffic, to and from hosts,
    /// the service and the client, counted as it crosses the wire (a packet dropped by a cut
    /// before it leaves is not counted).
    pub async fn bytes(&self, host: usize) -> Result<(u64, u64), LabError> {
        let veth = self.layout.root_veth(self.layout.host(host)?);
        // The root-side end's counters, mirrored: what it sends, the host receives.
        let received = read_counter(&veth, "tx_bytes").await?;
        let sent = read_counter(&veth, "rx_bytes").await?;
        Ok((received, sent))
    }

    /// Removes the lab: stops its delay lines, kills what still runs in its namespaces, deletes
    /// its links and namespaces, and frees its slot. Fails if anything of it is left.
    pub async fn close(mut self) -> Result<(), LabError> {
        self.remove().await
    }

    async fn apply(&mut self, actions: Vec<Action>) -> Result<(), LabError> {
        for action in actions {
            match action {
                Action::Run(step) => {
                    exec::run(&step).await?;
                }
                Action::StartDelayLine { host } => {
                    self.line(host).await?;
                }
                Action::SetDelay { host, source, ms } => {
                    self.line(host).await?.set(source, ms).await?;
                }
                Action::StopDelayLines => {
                    for (_, line) in std::mem::take(&mut self.lines) {
                        line.stop().await;
                    }
                }
            }
        }
        Ok(())
    }

    /// Host `host`'s delay line, started if it does not run yet.
    async fn line(&mut self, host: usize) -> Result<&mut DelayLine, LabError> {
        if !self.lines.contains_key(&host) {
            let line = DelayLine::start(&self.layout, host).await?;
            self.lines.insert(host, line);
        }
        Ok(self.lines.get_mut(&host).expect("started above"))
    }

    async fn remove(&mut self) -> Result<(), LabError> {
        let Some(lock) = self.slot.take() else { return Ok(()) };
        for (_, line) in std::mem::take(&mut self.lines) {
            line.stop().await;
        }
        remove(lock.slot()).await?;
        let left = leftovers(lock.slot()).await?;
        if !left.is_empty() {
            let names = left.namespaces.into_iter().chain(left.links).collect();
            return Err(LabError::Leftovers { slot: lock.slot(), names });
        }
        Ok(())
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let Some(lock) = self.slot.take() else { return };
        // The delay lines die with their `kill_on_drop` children.
        self.lines.clear();
        let (namespaces, links) = (names_in(NETNS_DIR), names_in(NET_CLASS_DIR));
        let left = Leftovers::of_slot(
            lock.slot(),
            namespaces.iter().map(String::as_str),
            links.iter().map(String::as_str),
        );
        for ns in &left.namespaces {
            if let Ok(output) = exec::run_blocking(&pids_step(ns)) {
                kill_all(&output.stdout);
            }
        }
        for step in left.teardown_steps() {
            let _ = exec::run_blocking(&step);
        }
    }
}

/// Kills what runs in slot `slot`'s namespaces and deletes its links and namespaces.
async fn remove(slot: u8) -> Result<(), LabError> {
    let left = leftovers(slot).await?;
    for ns in &left.namespaces {
        let output = exec::run(&pids_step(ns)).await?;
        kill_all(&output.stdout);
    }
    exec::run_all(&left.teardown_steps()).await.map_err(LabError::from)
}

/// What of slot `slot` exists on the machine now.
async fn leftovers(slot: u8) -> Result<Leftovers, LabError> {
    let namespaces = list(NETNS_DIR).await?;
    let links = list(NET_CLASS_DIR).await?;
    Ok(Leftovers::of_slot(slot, namespaces.iter().map(String::as_str), links.iter().map(String::as_str)))
}

/// The names in a directory; none if it does not exist (no namespace was ever made).
async fn list(dir: &str) -> Result<Vec<String>, LabError> {
    let read_error = |source| LabError::Read { path: PathBuf::from(dir), source };
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(read_error(error)),
    };
    let mut names = Vec::new();
    while let Some(entry) = entries.next_entry().await.map_err(read_error)? {
        names.extend(entry.file_name().to_str().map(str::to_owned));
    }
    Ok(names)
}

/// [`list`], blocking, for `Drop`; errors read as an empty directory.
fn names_in(dir: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries.flatten().filter_map(|entry| entry.file_name().to_str().map(str::to_owned)).collect()
}

fn pids_step(ns: &str) -> Step {
    Step::best_effort(["ip", "netns", "pids", ns])
}

/// Sends SIGKILL to every pid listed, one per line, in `ip netns pids` output.
fn kill_all(pids: &[u8]) {
    let pids = String::from_utf8_lossy(pids);
    for pid in pids.lines().filter_map(|line| line.trim().parse::<i32>().ok()) {
        if let Some(pid) = rustix::process::Pid::from_raw(pid) {
            // Gone already is fine: it only had to be gone.
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
    }
}

async fn read_counter(interface: &str, counter: &str) -> Result<u64, LabError> {
    let path = PathBuf::from(format!("{NET_CLASS_DIR}/{interface}/statistics/{counter}"));
    let text = tokio::fs::read_to_string(&path)
        .await
        .map_err(|source| LabError::Read { path: path.clone(), source })?;
    text.trim().parse().map_err(|_| LabError::Read {
        path,
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not a counter: {text:?}")),
    })
}
