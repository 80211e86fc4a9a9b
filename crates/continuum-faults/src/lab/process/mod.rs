//! [`Process`]: a child process of the fault suite, optionally inside a lab host's namespace,
//! with its output appended to a log file; it can be paused, killed, stopped and restarted, and
//! never outlives its owner.

mod spec;
mod tree;

pub use spec::{ProcessSpec, StopSignal};

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustix::process::{Pid, Signal};
use tokio::process::Child;

/// How long [`Process::restart`] waits for a stopping process before killing it.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a process could not be started, signalled or read.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The log file cannot be opened or written.
    #[error("cannot write the log {path}")]
    Log {
        /// The log file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The program cannot be started.
    #[error("cannot start {program}")]
    Spawn {
        /// The program.
        program: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A spec asks for another user inside a namespace: `ip netns exec` needs root, so the
    /// switch cannot happen before it.
    #[error("{program}: running as another user inside a lab namespace is not supported")]
    UserInNetns {
        /// The program.
        program: String,
    },
    /// The process is not running (never started, exited, or killed).
    #[error("{program} is not running")]
    NotRunning {
        /// The program.
        program: String,
    },
    /// A signal could not be sent.
    #[error("cannot signal {program} (pid {pid})")]
    Signal {
        /// The program.
        program: String,
        /// Its pid.
        pid: u32,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Waiting for it to exit failed.
    #[error("cannot wait for {program}")]
    Wait {
        /// The program.
        program: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// `/proc/<pid>/status` cannot be read or has no resident size.
    #[error("cannot read the memory of {program} (pid {pid})")]
    Memory {
        /// The program.
        program: String,
        /// Its pid.
        pid: u32,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// A child process started from a [`ProcessSpec`].
///
/// Killed on drop (SIGKILL, with its descendants for [`ProcessSpec::whole_tree`]); tokio reaps
/// it. Signals to it are only sent while it is not yet reaped, so they never reach a process
/// that reused its pid; its descendants are looked up just before each signal.
#[derive(Debug)]
pub struct Process {
    spec: ProcessSpec,
    child: Option<Child>,
    starts: u32,
    last_exit: Option<ExitStatus>,
}

impl Process {
    /// Starts it, after appending a marker line to its log.
    pub async fn start(spec: ProcessSpec) -> Result<Self, ProcessError> {
        let mut process = Self { spec, child: None, starts: 0, last_exit: None };
        process.spawn().await?;
        Ok(process)
    }

    /// How it was started.
    pub fn spec(&self) -> &ProcessSpec {
        &self.spec
    }

    /// Its pid while it runs (or has exited but is not yet reaped).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// How many times it was started (1 before any restart).
    pub fn starts(&self) -> u32 {
        self.starts
    }

    /// How it last exited, once it has.
    pub fn last_exit(&self) -> Option<ExitStatus> {
        self.last_exit
    }

    /// `true` while it runs (a paused process runs); reaps it if it has exited.
    pub fn is_running(&mut self) -> bool {
        let Some(child) = self.child.as_mut() else { return false };
        match child.try_wait() {
            Ok(None) => true,
            Ok(Some(status)) => {
                self.exited(status);
                false
            }
            Err(_) => false,
        }
    }

    /// SIGSTOP: it stops answering, its connections stay open.
    pub async fn pause(&self) -> Result<(), ProcessError> {
        self.signal_tree(Signal::STOP).await
    }

    /// SIGCONT after [`Process::pause`].
    pub async fn resume(&self) -> Result<(), ProcessError> {
        self.signal_tree(Signal::CONT).await
    }

    /// SIGKILL (a crash), then reaps it. Returns how it exited; `None` if it was not running.
    pub async fn kill(&mut self) -> Result<Option<ExitStatus>, ProcessError> {
        if self.child.is_none() {
            return Ok(None);
        }
        self.signal_tree(Signal::KILL).await?;
        self.reap().await.map(Some)
    }

    /// Sends its stop signal (SIGTERM unless set; SIGCONT too, so a paused process can act on
    /// it), waits up to `timeout` for it to exit, then kills it.
    pub async fn stop(&mut self, timeout: Duration) -> Result<Option<ExitStatus>, ProcessError> {
        if self.child.is_none() {
            return Ok(None);
        }
        self.signal(self.spec.stop_signal.signal())?;
        self.signal_tree(Signal::CONT).await?;
        let child = self.child.as_mut().expect("checked above");
        match tokio::time::timeout(timeout, child.wait()).await {
            Ok(Ok(status)) => {
                self.exited(status);
                Ok(Some(status))
            }
            Ok(Err(source)) => Err(ProcessError::Wait { program: self.spec.program(), source }),
            Err(_) => self.kill().await,
        }
    }

    /// Waits for it to exit by itself.
    pub async fn wait(&mut self) -> Result<Option<ExitStatus>, ProcessError> {
        if self.child.is_none() {
            return Ok(self.last_exit);
        }
        self.reap().await.map(Some)
    }

    /// Stops it if it runs ([`Process::stop`] with [`DEFAULT_STOP_TIMEOUT`]; call
    /// [`Process::kill`] first for a crash), then starts it again with the same program,
    /// arguments, environment, namespace and log, after a marker line in the log.
    pub async fn restart(&mut self) -> Result<(), ProcessError> {
        self.stop(DEFAULT_STOP_TIMEOUT).await?;
        self.spawn().await
    }

    /// Its resident memory (`VmRSS` in `/proc/<pid>/status`), in bytes; its own, without its
    /// descendants'.
    pub async fn rss_bytes(&self) -> Result<u64, ProcessError> {
        let pid = self.pid().ok_or_else(|| ProcessError::NotRunning { program: self.spec.program() })?;
        let memory_error = |source| ProcessError::Memory { program: self.spec.program(), pid, source };
        let status = tokio::fs::read_to_string(format!("/proc/{pid}/status")).await.map_err(memory_error)?;
        vm_rss_bytes(&status).ok_or_else(|| {
            memory_error(io::Error::new(io::ErrorKind::InvalidData, "no VmRSS line (a zombie?)"))
        })
    }

    async fn spawn(&mut self) -> Result<(), ProcessError> {
        let log_error = |source| ProcessError::Log { path: self.spec.log.clone(), source };
        let mut log = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.spec.log)
            .await
            .map_err(log_error)?
            .into_std()
            .await;
        self.starts += 1;
        let at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
        let kind = if self.starts == 1 { "start" } else { "restart" };
        let marker =
            format!("=== continuum-faults: {kind} #{} at {at:.3}: {} ===\n", self.starts, self.spec.line());
        // One small append to a local file, before the child exists.
        log.write_all(marker.as_bytes()).map_err(log_error)?;
        let stderr = log.try_clone().map_err(log_error)?;
        let mut command = self.spec.command()?;
        command.stdout(log).stderr(stderr);
        let child =
            command.spawn().map_err(|source| ProcessError::Spawn { program: self.spec.program(), source })?;
        self.child = Some(child);
        Ok(())
    }

    async fn reap(&mut self) -> Result<ExitStatus, ProcessError> {
        let child =
            self.child.as_mut().ok_or_else(|| ProcessError::NotRunning { program: self.spec.program() })?;
        let status = child
            .wait()
            .await
            .map_err(|source| ProcessError::Wait { program: self.spec.program(), source })?;
        self.exited(status);
        Ok(status)
    }

    fn exited(&mut self, status: ExitStatus) {
        self.child = None;
        self.last_exit = Some(status);
    }

    /// Sends `signal` to it alone.
    fn signal(&self, signal: Signal) -> Result<(), ProcessError> {
        let pid = self.pid().ok_or_else(|| ProcessError::NotRunning { program: self.spec.program() })?;
        send(pid, signal).map_err(|source| ProcessError::Signal { program: self.spec.program(), pid, source })
    }

    /// Sends `signal` to it and, for a [`ProcessSpec::whole_tree`], to its descendants.
    async fn signal_tree(&self, signal: Signal) -> Result<(), ProcessError> {
        if !self.spec.tree {
            return self.signal(signal);
        }
        let pid = self.pid().ok_or_else(|| ProcessError::NotRunning { program: self.spec.program() })?;
        let freeze = signal == Signal::KILL || signal == Signal::STOP;
        if freeze {
            // A stopped parent forks no new worker while its workers are looked up and signalled.
            self.signal(Signal::STOP)?;
        }
        let descendants = tokio::task::spawn_blocking(move || tree::descendants(pid))
            .await
            .expect("reading /proc does not panic");
        for descendant in descendants {
            // A worker that exited meanwhile only had to be gone.
            let _ = send(descendant, signal);
        }
        self.signal(signal)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let Some(pid) = self.pid() else { return };
        if self.spec.tree {
            // `kill_on_drop` would reach the process alone.
            let _ = send(pid, Signal::STOP);
            for descendant in tree::descendants(pid) {
                let _ = send(descendant, Signal::KILL);
            }
        }
        let _ = send(pid, Signal::KILL);
    }
}

/// Sends `signal` to `pid`; a process already gone is not an error.
fn send(pid: u32, signal: Signal) -> io::Result<()> {
    let pid = i32::try_from(pid).ok().and_then(Pid::from_raw).ok_or_else(|| io::Error::other("bad pid"))?;
    match rustix::process::kill_process(pid, signal) {
        Ok(()) | Err(rustix::io::Errno::SRCH) => Ok(()),
        Err(errno) => Err(errno.into()),
    }
}

/// The `VmRSS` of a `/proc/<pid>/status` text, in bytes.
fn vm_rss_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|line| line.strip_prefix("VmRSS:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_size_is_read_in_bytes_and_a_zombie_has_none() {
        let status = "Name:\tredis-server\nVmPeak:\t  9000 kB\nVmRSS:\t    7316 kB\nThreads:\t5\n";
        assert_eq!(vm_rss_bytes(status), Some(7316 * 1024));
        assert_eq!(vm_rss_bytes("Name:\tx\nState:\tZ (zombie)\n"), None);
        assert_eq!(vm_rss_bytes("VmRSS:\tlots\n"), None);
    }
}
