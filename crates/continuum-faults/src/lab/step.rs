//! [`Step`]: one command line the lab runs, as plain data, so that what the lab does is built
//! and tested without running anything.

use std::ffi::OsStr;
use std::fmt;
use std::path::PathBuf;

/// One command to run: its argument vector and whether a failure stops the operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The program and its arguments.
    pub argv: Vec<String>,
    /// `false` for clean-up steps, whose failure only means there was nothing to remove.
    pub must_succeed: bool,
    /// Another user and group to run it as (`None`: this process's).
    pub user: Option<(u32, u32)>,
    /// Its working directory (`None`: this process's).
    pub dir: Option<PathBuf>,
}

impl Step {
    /// A step whose failure fails the operation.
    pub fn new<I, S>(argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self { argv: argv.into_iter().map(Into::into).collect(), must_succeed: true, user: None, dir: None }
    }

    /// A step whose failure is ignored (removing what may not exist).
    pub fn best_effort<I, S>(argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self { must_succeed: false, ..Self::new(argv) }
    }

    /// Adds an argument (a path is taken as its lossy UTF-8 text).
    pub fn with_arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.argv.push(arg.as_ref().to_string_lossy().into_owned());
        self
    }

    /// Adds arguments.
    pub fn with_args<I, S>(self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        args.into_iter().fold(self, Self::with_arg)
    }

    /// Runs it as `uid`/`gid` (needs root).
    pub fn as_user(self, uid: u32, gid: u32) -> Self {
        Self { user: Some((uid, gid)), ..self }
    }

    /// Runs it in `dir`.
    pub fn in_dir(self, dir: impl Into<PathBuf>) -> Self {
        Self { dir: Some(dir.into()), ..self }
    }
}

/// The command line as a shell would show it (arguments with spaces quoted).
impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.argv.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            if arg.is_empty() || arg.contains([' ', '\'', '"']) {
                write!(f, "'{}'", arg.replace('\'', "'\\''"))?;
            } else {
                f.write_str(arg)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_prints_as_a_command_line_with_odd_arguments_quoted() {
        let step = Step::new(["tc", "qdisc", "add", "", "it's here"]);
        assert_eq!(step.to_string(), "tc qdisc add '' 'it'\\''s here'");
        assert!(step.must_succeed);
        assert!(!Step::best_effort(["ip", "link", "del", "x"]).must_succeed);
    }
}
