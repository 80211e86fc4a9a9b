//! [`LabError`]: why a lab cannot be made, changed or read.

use std::io;
use std::path::PathBuf;

use super::delay::DelayLineError;
use super::exec::CommandError;
use super::faults::FaultError;
use super::layout::LayoutError;
use super::slot::SlotError;

/// Why a lab cannot be made, changed or read.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// Namespaces, veth pairs and `tc` need root.
    #[error(
        "the fault lab needs root (this process runs as uid {euid}): it makes network namespaces and runs tc"
    )]
    NotRoot {
        /// The effective uid.
        euid: u32,
    },
    /// A program the lab runs is missing or broken.
    #[error("the fault lab needs `{tool}` (Debian package {package})")]
    ToolMissing {
        /// The program.
        tool: &'static str,
        /// Where it comes from.
        package: &'static str,
        /// What running it said.
        #[source]
        source: CommandError,
    },
    /// Delays need TUN devices.
    #[error("the fault lab needs /dev/net/tun (the kernel's TUN driver) for delays")]
    NoTun {
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// No slot could be had.
    #[error(transparent)]
    Slot(#[from] SlotError),
    /// A bad host count or host index.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// A fault that cannot be applied as asked.
    #[error(transparent)]
    Fault(#[from] FaultError),
    /// An `ip`, `tc` or `sysctl` command failed; the message has its command line and stderr.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A delay line failed.
    #[error(transparent)]
    DelayLine(#[from] DelayLineError),
    /// The file system (namespace list, interface counters) could not be read.
    #[error("cannot read {path}")]
    Read {
        /// What was read.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Closing the lab left some of its namespaces or links behind.
    #[error("the lab in slot {slot} left {names:?} behind")]
    Leftovers {
        /// The slot.
        slot: u8,
        /// What is still there.
        names: Vec<String>,
    },
}
