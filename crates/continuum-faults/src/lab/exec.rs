//! Runs [`Step`]s: asynchronously on tokio, or blocking where no runtime can be awaited (a
//! `Drop`). A failed command keeps its command line, exit status and standard error.

use std::io;
use std::process::{ExitStatus, Output, Stdio};

use super::step::Step;

/// Why a command the lab ran did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The program could not be started (missing, not executable).
    #[error("cannot run `{line}`")]
    Spawn {
        /// The command line.
        line: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The program ran and exited unsuccessfully.
    #[error("`{line}` failed ({status}): {stderr}")]
    Failed {
        /// The command line.
        line: String,
        /// How it exited.
        status: ExitStatus,
        /// What it wrote to standard error, trimmed.
        stderr: String,
    },
}

/// Runs one step to completion and returns its output; a failed `must_succeed` step is an error,
/// a failed best-effort step is not.
pub async fn run(step: &Step) -> Result<Output, CommandError> {
    let (program, args) = split(step);
    let mut command = tokio::process::Command::new(program);
    command.args(args).stdin(Stdio::null()).kill_on_drop(true);
    if let Some((uid, gid)) = step.user {
        command.uid(uid).gid(gid);
    }
    if let Some(dir) = &step.dir {
        command.current_dir(dir);
    }
    judge(step, command.output().await)
}

/// Runs every step in order, stopping at the first failure of a step that must succeed; a
/// best-effort step that cannot even start is passed over too.
pub async fn run_all(steps: &[Step]) -> Result<(), CommandError> {
    for step in steps {
        match run(step).await {
            Err(error) if step.must_succeed => return Err(error),
            _ => {}
        }
    }
    Ok(())
}

/// [`run`] without a runtime, for clean-up in `Drop`: blocks the calling thread until the
/// command ends (the lab's commands take milliseconds). Ignores [`Step::user`] and
/// [`Step::dir`].
pub fn run_blocking(step: &Step) -> Result<Output, CommandError> {
    let (program, args) = split(step);
    let output = std::process::Command::new(program).args(args).stdin(Stdio::null()).output();
    judge(step, output)
}

fn split(step: &Step) -> (&str, &[String]) {
    match step.argv.split_first() {
        Some((program, args)) => (program, args),
        None => ("true", &[]),
    }
}

fn judge(step: &Step, output: io::Result<Output>) -> Result<Output, CommandError> {
    let output = output.map_err(|source| CommandError::Spawn { line: step.to_string(), source })?;
    if output.status.success() || !step.must_succeed {
        return Ok(output);
    }
    Err(CommandError::Failed {
        line: step.to_string(),
        status: output.status,
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    })
}
