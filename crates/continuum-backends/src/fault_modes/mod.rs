//! Deliberately broken modes of a node, for the fault suite only (feature `fault-modes`): each
//! makes the node break one guarantee, so the suite's checker can be shown to catch it.
//!
//! Nothing here exists in a build without the feature, and `continuum serve` accepts
//! `--fault-mode` only with it (what a user installs, `cargo build -p continuum --release`, has
//! neither). A node in one of these modes logs an ERROR saying so when it starts.
//!
//! # Layout
//! - [`ack_before_write`]: [`AckBeforeWrite`], stores that answer a write at once and apply it
//!   about [`ack_before_write::DELAY`] later, so a SIGKILL in between loses acknowledged writes.
//! - [`ignore_revocations`]: [`IgnoreRevocations`], a session store that answers the last live
//!   copy it saw of a session the store now holds revoked or absent, and principals' epochs as
//!   first seen, so validation here keeps accepting revoked sessions.
//! - [`remembered`]: [`remembered::Remembered`], the bounded memory behind it.
//! - `drop-copies` lives where a backup stores copies: `continuum_cluster::replication`'s
//!   `drop_copies` module, switched on by [`crate::OpenOptions::fault`] for a replicated store.

pub mod ack_before_write;
pub mod ignore_revocations;
pub mod remembered;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use continuum_store::Stores;

pub use ack_before_write::AckBeforeWrite;
pub use ignore_revocations::IgnoreRevocations;

/// One deliberately broken mode of a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultMode {
    /// Every session and document write is answered at once and applied to the store about
    /// [`ack_before_write::DELAY`] later, in order; reads in between see the old state.
    AckBeforeWrite,
    /// As a backup of a replicated store, every tenth copy taken from a primary is acknowledged
    /// without being stored.
    DropCopies,
    /// Sessions the store holds revoked or absent are answered as the last live copy this node
    /// saw; principals' epochs never move up; sealed sessions' deny entries read as absent.
    IgnoreRevocations,
}

impl FaultMode {
    /// Every mode, in the order of [`FaultMode::NAMES`].
    pub const ALL: [FaultMode; 3] =
        [FaultMode::AckBeforeWrite, FaultMode::DropCopies, FaultMode::IgnoreRevocations];

    /// The modes' names as `--fault-mode` takes them.
    pub const NAMES: [&'static str; 3] = ["ack-before-write", "drop-copies", "ignore-revocations"];

    /// The mode's name as `--fault-mode` takes it.
    pub fn name(self) -> &'static str {
        match self {
            FaultMode::AckBeforeWrite => Self::NAMES[0],
            FaultMode::DropCopies => Self::NAMES[1],
            FaultMode::IgnoreRevocations => Self::NAMES[2],
        }
    }
}

impl fmt::Display for FaultMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of [`FaultMode::NAMES`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown fault mode `{0}`: expected one of ack-before-write, drop-copies, ignore-revocations")]
pub struct UnknownFaultMode(pub String);

impl FromStr for FaultMode {
    type Err = UnknownFaultMode;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|mode| mode.name() == name)
            .ok_or_else(|| UnknownFaultMode(name.to_owned()))
    }
}

/// `stores` with the decorator of `mode` put in front, for the modes that are decorators
/// (`ack-before-write`, `ignore-revocations`); `drop-copies` is not one (it is set on the
/// cluster's configuration before the node starts) and leaves them as they are. The bus is
/// left as it is: the modes break what a node keeps, not what it hears.
pub fn decorate(mode: FaultMode, stores: Stores) -> Stores {
    match mode {
        FaultMode::AckBeforeWrite => {
            let delayed = AckBeforeWrite::new(stores.sessions, stores.docs);
            Stores { sessions: Arc::new(delayed.sessions()), docs: Arc::new(delayed.docs()), bus: stores.bus }
        }
        FaultMode::IgnoreRevocations => {
            Stores { sessions: Arc::new(IgnoreRevocations::new(stores.sessions)), ..stores }
        }
        FaultMode::DropCopies => stores,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_to_their_mode_and_others_are_refused() {
        for mode in FaultMode::ALL {
            assert_eq!(mode.name().parse(), Ok(mode));
            assert_eq!(mode.to_string(), mode.name());
        }
        let error = "drop-every-copy".parse::<FaultMode>().unwrap_err().to_string();
        assert!(error.contains("`drop-every-copy`") && error.contains("ignore-revocations"), "{error}");
    }
}
