//! The open-file limit: thousands of sockets need thousands of file descriptors, and the usual
//! soft limit is 1024. [`ensure_open_files`] raises the soft limit up to the hard limit when
//! needed, or says clearly why it cannot.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Descriptors kept for everything but the sockets: the runtime, stdio, HTTP connections.
pub const SPARE: u64 = 64;

/// What to do about the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdPlan {
    /// The soft limit is high enough.
    Enough,
    /// Raise the soft limit to this (the hard limit, or what is needed when there is no hard
    /// limit).
    Raise(u64),
    /// Even the hard limit is too low.
    TooLow {
        /// The hard limit.
        hard: u64,
    },
}

/// The plan for `needed` descriptors under `soft` and `hard` (`None` is unlimited).
pub fn plan(soft: Option<u64>, hard: Option<u64>, needed: u64) -> FdPlan {
    match (soft, hard) {
        (None, _) => FdPlan::Enough,
        (Some(soft), _) if soft >= needed => FdPlan::Enough,
        (Some(_), None) => FdPlan::Raise(needed),
        (Some(_), Some(hard)) if hard >= needed => FdPlan::Raise(hard),
        (Some(_), Some(hard)) => FdPlan::TooLow { hard },
    }
}

/// Why the bench cannot have the descriptors it needs.
#[derive(Debug, thiserror::Error)]
pub enum FdLimitError {
    /// The hard limit is below what the sockets need.
    #[error(
        "{sockets} sockets need about {needed} open files, but this process may open at most {hard} \
         (the hard RLIMIT_NOFILE): raise it (`ulimit -Hn` as root, LimitNOFILE= in a systemd unit) or \
         ask for fewer sockets; the server needs as many"
    )]
    TooLow {
        /// The sockets asked for.
        sockets: usize,
        /// The descriptors they need.
        needed: u64,
        /// The hard limit.
        hard: u64,
    },
    /// Raising the soft limit failed.
    #[error("cannot raise the open-file limit to {to}")]
    Raise {
        /// The limit asked for.
        to: u64,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// Makes sure this process may hold `sockets` sockets, raising the soft limit if needed.
pub fn ensure_open_files(sockets: usize) -> Result<(), FdLimitError> {
    let needed = u64::try_from(sockets).unwrap_or(u64::MAX).saturating_add(SPARE);
    let Rlimit { current, maximum } = getrlimit(Resource::Nofile);
    match plan(current, maximum, needed) {
        FdPlan::Enough => Ok(()),
        FdPlan::Raise(to) => {
            setrlimit(Resource::Nofile, Rlimit { current: Some(to), maximum })
                .map_err(|errno| FdLimitError::Raise { to, source: errno.into() })?;
            tracing::debug!(from = ?current, to, "raised the open-file limit");
            Ok(())
        }
        FdPlan::TooLow { hard } => Err(FdLimitError::TooLow { sockets, needed, hard }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raises_to_the_hard_limit_only_when_needed() {
        assert_eq!(plan(Some(20_000), Some(20_000), 1_064), FdPlan::Enough);
        assert_eq!(plan(None, None, 1_000_000), FdPlan::Enough);
        assert_eq!(plan(Some(1024), Some(524_288), 2_064), FdPlan::Raise(524_288));
        assert_eq!(plan(Some(1024), None, 2_064), FdPlan::Raise(2_064));
        assert_eq!(plan(Some(1024), Some(2_000), 2_064), FdPlan::TooLow { hard: 2_000 });
    }

    #[test]
    fn the_error_says_what_to_do() {
        let error = FdLimitError::TooLow { sockets: 5000, needed: 5064, hard: 4096 };
        let text = error.to_string();
        assert!(
            text.contains("5000 sockets") && text.contains("at most 4096") && text.contains("ulimit -Hn"),
            "{text}"
        );
    }

    #[test]
    fn a_small_need_is_met_here() {
        ensure_open_files(1).unwrap();
    }
}
