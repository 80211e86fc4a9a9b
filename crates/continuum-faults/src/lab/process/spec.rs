//! [`ProcessSpec`]: how to start a [`super::Process`] (program, arguments, environment,
//! namespace, user, descendants, stop signal, log), kept to start it again the same way.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use rustix::process::Signal;
use tokio::process::Command;

use super::ProcessError;

/// The signal [`super::Process::stop`] sends first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGTERM: what most servers take as "shut down cleanly".
    #[default]
    Terminate,
    /// SIGINT: PostgreSQL's fast shutdown.
    Interrupt,
    /// SIGQUIT.
    Quit,
}

impl StopSignal {
    pub(super) fn signal(self) -> Signal {
        match self {
            Self::Terminate => Signal::TERM,
            Self::Interrupt => Signal::INT,
            Self::Quit => Signal::QUIT,
        }
    }
}

/// How to start a process; kept to start it again the same way.
#[derive(Clone, Debug)]
pub struct ProcessSpec {
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    netns: Option<String>,
    user: Option<(u32, u32)>,
    dir: Option<PathBuf>,
    pub(super) tree: bool,
    pub(super) stop_signal: StopSignal,
    pub(super) log: PathBuf,
}

impl ProcessSpec {
    /// `program`, with standard output and error appended to `log`.
    pub fn new(program: impl Into<OsString>, log: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            netns: None,
            user: None,
            dir: None,
            tree: false,
            stop_signal: StopSignal::default(),
            log: log.into(),
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable (the rest of the environment is inherited).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Runs it inside a network namespace (a lab host's: [`crate::lab::Lab::netns`]).
    pub fn in_netns(mut self, netns: impl Into<String>) -> Self {
        self.netns = Some(netns.into());
        self
    }

    /// Runs it as another user and group (needs root; not with [`ProcessSpec::in_netns`]).
    pub fn as_user(mut self, uid: u32, gid: u32) -> Self {
        self.user = Some((uid, gid));
        self
    }

    /// Its working directory.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// Signals reach its descendants too (found by parent pid when the signal is sent): for a
    /// server that forks workers (PostgreSQL), so that a kill takes them all at once, like a
    /// crash, and a pause freezes them all. Its stop signal still goes to it alone: shutting
    /// its workers down is its own job.
    pub fn whole_tree(mut self) -> Self {
        self.tree = true;
        self
    }

    /// The signal [`super::Process::stop`] sends first (SIGTERM unless set).
    pub fn stop_signal(mut self, signal: StopSignal) -> Self {
        self.stop_signal = signal;
        self
    }

    /// The log file.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// The program, for messages.
    pub fn program(&self) -> String {
        self.program.to_string_lossy().into_owned()
    }

    /// The command line it runs, as one line, for the log's markers.
    pub(super) fn line(&self) -> String {
        let mut words: Vec<String> = Vec::new();
        if let Some(netns) = &self.netns {
            words.extend(["ip", "netns", "exec", netns].map(str::to_owned));
        }
        words.extend(
            std::iter::once(&self.program).chain(&self.args).map(|w| w.to_string_lossy().into_owned()),
        );
        words.join(" ")
    }

    pub(super) fn command(&self) -> Result<Command, ProcessError> {
        let mut command = match &self.netns {
            Some(_) if self.user.is_some() => {
                return Err(ProcessError::UserInNetns { program: self.program() });
            }
            Some(netns) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", netns]).arg(&self.program);
                command
            }
            None => Command::new(&self.program),
        };
        command
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .kill_on_drop(true);
        if let Some((uid, gid)) = self.user {
            command.uid(uid).gid(gid);
        }
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        Ok(command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespaced_spec_runs_through_ip_netns_exec_and_refuses_a_user_switch() {
        let spec = ProcessSpec::new("continuum", "/tmp/x.log").args(["serve", "--listen", "0.0.0.0:8080"]);
        assert_eq!(spec.line(), "continuum serve --listen 0.0.0.0:8080");
        let spec = spec.in_netns("cf2h1");
        assert_eq!(spec.line(), "ip netns exec cf2h1 continuum serve --listen 0.0.0.0:8080");
        assert!(matches!(spec.as_user(101, 104).command(), Err(ProcessError::UserInNetns { .. })));
    }
}
