//! [`Violation`]: one thing that must hold and did not, with the operations that show it.

use std::fmt;

use serde::Serialize;

/// What kind of guarantee was broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ViolationKind {
    /// An acknowledged attribute write is missing from what the session ended with.
    LostWrite,
    /// A session was answered as valid after its revocation was acknowledged.
    RevocationUndone,
    /// A client observed a session's version go down.
    VersionWentBack,
    /// A read on the same route as an acknowledged write did not show it.
    StaleRead,
    /// A document edit acknowledged as `cloud` is missing from the document at the end.
    LostDocEdit,
    /// A session that was created, not revoked and not expired was answered as unknown.
    SessionLost,
}

impl ViolationKind {
    /// Every kind, in report order.
    pub const ALL: [ViolationKind; 6] = [
        ViolationKind::LostWrite,
        ViolationKind::RevocationUndone,
        ViolationKind::VersionWentBack,
        ViolationKind::StaleRead,
        ViolationKind::LostDocEdit,
        ViolationKind::SessionLost,
    ];

    /// The kind's name in reports (`lost-write`, …).
    pub fn name(self) -> &'static str {
        match self {
            ViolationKind::LostWrite => "lost-write",
            ViolationKind::RevocationUndone => "revocation-undone",
            ViolationKind::VersionWentBack => "version-went-back",
            ViolationKind::StaleRead => "stale-read",
            ViolationKind::LostDocEdit => "lost-doc-edit",
            ViolationKind::SessionLost => "session-lost",
        }
    }

    /// What it means, in a sentence.
    pub fn meaning(self) -> &'static str {
        match self {
            ViolationKind::LostWrite => "an acknowledged write is missing at the end",
            ViolationKind::RevocationUndone => "a session was valid after its revocation was acknowledged",
            ViolationKind::VersionWentBack => "a client saw a session's version go down",
            ViolationKind::StaleRead => "a read on the route of an acknowledged write did not show it",
            ViolationKind::LostDocEdit => "a document edit acknowledged as cloud is missing at the end",
            ViolationKind::SessionLost => "a live session was answered as unknown",
        }
    }
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One violation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// What was broken.
    pub kind: ViolationKind,
    /// The session (`s17`) or document (`user:a/doc`) it concerns.
    pub subject: String,
    /// The operations that show it, by record id: the one that established what must hold
    /// first (the write, the revocation), then the one that broke it.
    pub ops: Vec<u64>,
    /// What was expected and what was seen.
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ops: Vec<String> = self.ops.iter().map(|id| format!("#{id}")).collect();
        write!(f, "{} {}: {} (ops {})", self.kind, self.subject, self.detail, ops.join(", "))
    }
}
