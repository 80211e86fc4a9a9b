//! [`Scenario`]: what one bench run measures.

use std::fmt;

/// One kind of load. Scenarios given together run one after another, in the order given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
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
}

impl Scenario {
    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Hello => "hello",
            Self::Validate => "validate",
            Self::Create => "create",
            Self::Patch => "patch",
            Self::IdleMemory => "idle-memory",
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

    /// The default of `--sessions` for this scenario: the pool size for `validate` and `patch`,
    /// the sessions to create for `idle-memory`.
    pub fn default_sessions(self) -> usize {
        match self {
            Self::IdleMemory => 100_000,
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
    use clap::ValueEnum as _;

    #[test]
    fn names_match_the_command_line() {
        for scenario in Scenario::value_variants() {
            assert_eq!(Scenario::from_str(scenario.name(), false), Ok(*scenario));
        }
        assert!(Scenario::from_str("validate ", false).is_err());
        assert!(Scenario::from_str("idle_memory", false).is_err());
    }

    #[test]
    fn only_pool_scenarios_need_the_pool() {
        assert!(Scenario::Validate.needs_pool() && Scenario::Patch.needs_pool());
        assert!(!Scenario::Create.needs_pool() && !Scenario::IdleMemory.needs_pool());
        assert!(!Scenario::Hello.needs_key() && Scenario::Create.needs_key());
        assert_eq!(Scenario::IdleMemory.default_sessions(), 100_000);
        assert_eq!(Scenario::Validate.default_sessions(), 1_000);
    }
}
