//! [`Scenario`]: what one bench run measures.

use std::fmt;

/// One kind of load. Scenarios given together run one after another, in the order given.
///
/// With the `clap` feature it is a `clap::ValueEnum`: its command-line names are
/// [`Scenario::name`]s and its doc comments their help.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Scenario {
    /// `GET /hello`: the floor — HTTP, routing and the runtime, no session work.
    Hello,
    /// `POST /v1/sessions/validate` with pool tokens round-robin: the hot path.
    Validate,
    /// `POST /v1/sessions`, one new session per request: a durable write each.
    Create,
    /// `PATCH /v1/sessions/{sid}/attributes` on pool sessions, without `If-Match`.
    Patch,
    /// RSS per idle session: `/metrics` before and after creating `--sessions` sessions.
    IdleMemory,
    /// `--connections` writer sockets on one document, each waiting for its durability ack.
    DocUpdates,
    /// `--sockets` readers on one document; the time from each update sent to each reader.
    Fanout,
    /// The sync step 2 a client receives on reconnecting after missing `--missed` updates.
    Reconnect,
    /// RSS per open document: `--sessions` documents, one socket each.
    DocMemory,
    /// `--sockets` subscribers of one document and a burst of `--updates` from one writer.
    Burst,
}

impl Scenario {
    /// Every scenario, in the order of the command line's help.
    pub const ALL: [Scenario; 10] = [
        Self::Hello,
        Self::Validate,
        Self::Create,
        Self::Patch,
        Self::IdleMemory,
        Self::DocUpdates,
        Self::Fanout,
        Self::Reconnect,
        Self::DocMemory,
        Self::Burst,
    ];

    /// The scenario named `name` on the command line and in reports.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scenario| scenario.name() == name)
    }

    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hello => "hello",
            Self::Validate => "validate",
            Self::Create => "create",
            Self::Patch => "patch",
            Self::IdleMemory => "idle-memory",
            Self::DocUpdates => "doc-updates",
            Self::Fanout => "fanout",
            Self::Reconnect => "reconnect",
            Self::DocMemory => "doc-memory",
            Self::Burst => "burst",
        }
    }

    /// Whether it needs the pool of pre-created sessions.
    pub fn needs_pool(self) -> bool {
        matches!(self, Self::Validate | Self::Patch)
    }

    /// Whether it talks to the backend plane and so needs an API key.
    pub fn needs_key(self) -> bool {
        self != Self::Hello
    }

    /// Whether it is a timed closed loop of HTTP requests (`hello`, `validate`, `create`,
    /// `patch`), which `--rounds` runs in turn.
    pub fn is_timed(self) -> bool {
        !self.is_sync() && self != Self::IdleMemory
    }

    /// Whether it works on continuity documents over `/v1/sync` sockets.
    pub fn is_sync(self) -> bool {
        matches!(self, Self::DocUpdates | Self::Fanout | Self::Reconnect | Self::DocMemory | Self::Burst)
    }

    /// The default of `--sessions` for this scenario: the pool size for `validate` and `patch`,
    /// the sessions to create for `idle-memory`, the documents `doc-memory` opens.
    pub fn default_sessions(self) -> usize {
        match self {
            Self::IdleMemory => 100_000,
            Self::DocMemory => 2_000,
            _ => 1_000,
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_found_again() {
        for scenario in Scenario::ALL {
            assert_eq!(Scenario::from_name(scenario.name()), Some(scenario));
        }
        assert_eq!(Scenario::from_name("validate "), None);
        assert_eq!(Scenario::from_name("idle_memory"), None);
    }

    #[test]
    fn only_pool_scenarios_need_the_pool() {
        assert!(Scenario::Validate.needs_pool() && Scenario::Patch.needs_pool());
        assert!(!Scenario::Create.needs_pool() && !Scenario::IdleMemory.needs_pool());
        assert!(!Scenario::Hello.needs_key() && Scenario::Create.needs_key());
        assert_eq!(Scenario::IdleMemory.default_sessions(), 100_000);
        assert_eq!(Scenario::Validate.default_sessions(), 1_000);
        assert_eq!(Scenario::DocMemory.default_sessions(), 2_000);
    }

    #[test]
    fn sync_scenarios_need_a_key_but_no_pool() {
        for scenario in [Scenario::DocUpdates, Scenario::Fanout, Scenario::Reconnect, Scenario::DocMemory] {
            assert!(scenario.is_sync() && scenario.needs_key() && !scenario.needs_pool(), "{scenario}");
        }
        assert!(!Scenario::IdleMemory.is_sync() && !Scenario::Hello.is_sync());
        let timed: Vec<Scenario> = Scenario::ALL.into_iter().filter(|s| s.is_timed()).collect();
        assert_eq!(timed, [Scenario::Hello, Scenario::Validate, Scenario::Create, Scenario::Patch]);
        assert_eq!(Scenario::from_name("doc-updates"), Some(Scenario::DocUpdates));
    }
}
