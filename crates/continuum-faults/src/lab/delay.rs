//! [`DelayLine`]: the user-space half of a delay. `tc` diverts the packets a host receives from
//! a delayed sender to a TUN device in the host's namespace; a small Python program
//! (`delay_line.py`, run there as a child process) holds each one for its sender's delay and
//! writes it back into the host's stack.
//!
//! Why user space: this machine's kernel has no `netem` (see [`super::faults`]). Why Python:
//! creating a TUN device takes an `ioctl`, which the workspace's `unsafe_code = "forbid"` keeps
//! out of this crate, and no workspace dependency wraps it.
//!
//! If the delay line dies, its device disappears and the packets diverted to it are dropped:
//! a delayed link fails closed, as a cut.

use std::io;
use std::net::Ipv4Addr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin};

use super::exec::{self, CommandError};
use super::layout::Layout;
use super::step::Step;

/// The delay line program, run with `python3 -c`.
const PROGRAM: &str = include_str!("delay_line.py");

/// How long a delay line may take to create its device.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a stopping delay line may take to write back what it holds.
const STOP_TIMEOUT: Duration = Duration::from_secs(2);

/// Why a delay line could not be started or told a delay.
#[derive(Debug, thiserror::Error)]
pub enum DelayLineError {
    /// The child process failed to start, to answer, or to take a delay.
    #[error("the delay line of host {host} failed")]
    Io {
        /// The host.
        host: usize,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Its device could not be brought up.
    #[error("the delay device of host {host} cannot be brought up")]
    Device {
        /// The host.
        host: usize,
        /// The cause.
        #[source]
        source: CommandError,
    },
}

/// A running delay line for one host; killed on drop.
#[derive(Debug)]
pub struct DelayLine {
    host: usize,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl DelayLine {
    /// Starts the delay line of `host` and brings its device up; returns once packets can be
    /// diverted to it.
    pub async fn start(layout: &Layout, host: usize) -> Result<Self, DelayLineError> {
        let io_error = |source| DelayLineError::Io { host, source };
        let device = layout.delay_device(host);
        let mut child = tokio::process::Command::new("ip")
            .args(["netns", "exec", &layout.netns(host), "python3", "-c", PROGRAM, &device])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(io_error)?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut first = String::new();
        let read = tokio::time::timeout(START_TIMEOUT, BufReader::new(stdout).read_line(&mut first)).await;
        match read {
            Ok(Ok(_)) if first.trim() == "ready" => {}
            Ok(Ok(_)) => return Err(io_error(io::Error::other(format!("said {first:?} instead of ready")))),
            Ok(Err(error)) => return Err(io_error(error)),
            Err(_) => return Err(io_error(io::Error::new(io::ErrorKind::TimedOut, "no ready line"))),
        }
        // A long queue: a burst diverted to the device must not be dropped before it is read.
        let up = Step::new([
            "ip",
            "-n",
            &layout.netns(host),
            "link",
            "set",
            "dev",
            &device,
            "txqueuelen",
            "10000",
            "up",
        ]);
        exec::run(&up).await.map_err(|source| DelayLineError::Device { host, source })?;
        let stdin = child.stdin.take();
        Ok(Self { host, child, stdin })
    }

    /// Holds packets from `source` for `ms` milliseconds from now on (`0`: passes them at once).
    pub async fn set(&mut self, source: Ipv4Addr, ms: u32) -> Result<(), DelayLineError> {
        let host = self.host;
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| DelayLineError::Io { host, source: io::Error::other("already stopping") })?;
        let line = format!("{source} {ms}\n");
        let written = async {
            stdin.write_all(line.as_bytes()).await?;
            stdin.flush().await
        };
        written.await.map_err(|source| DelayLineError::Io { host, source })
    }

    /// Ends its input, so it writes back what it holds and exits; kills it if it takes longer
    /// than a moment.
    pub async fn stop(mut self) {
        drop(self.stdin.take());
        if tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await.is_err() {
            // Already exited or killed either way; nothing more to do with an error here.
            let _ = self.child.kill().await;
        }
    }
}
