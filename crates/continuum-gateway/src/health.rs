//! [`NodeHealth`]: one node's health as a state machine fed by active checks and passive
//! failures. Pure; the checker and the proxy feed it.

use crate::config::HealthConfig;

/// A change of a node's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// The node stops receiving requests.
    Ejected,
    /// The node receives requests again.
    Readmitted,
}

/// Whether a node is live and how many checks in a row passed or failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeHealth {
    live: bool,
    passes: u32,
    fails: u32,
}

impl Default for NodeHealth {
    /// Live until shown otherwise, so the gateway serves from its first request.
    fn default() -> Self {
        Self { live: true, passes: 0, fails: 0 }
    }
}

impl NodeHealth {
    /// Whether the node receives requests.
    pub fn is_live(&self) -> bool {
        self.live
    }

    /// An active check passed or failed: `fall` failures in a row eject a live node, `rise`
    /// passes in a row re-admit an ejected one.
    pub fn check(&mut self, passed: bool, config: &HealthConfig) -> Option<Transition> {
        if passed {
            self.fails = 0;
            self.passes = self.passes.saturating_add(1);
            if !self.live && self.passes >= config.rise {
                self.live = true;
                return Some(Transition::Readmitted);
            }
        } else {
            self.passes = 0;
            self.fails = self.fails.saturating_add(1);
            if self.live && self.fails >= config.fall {
                self.live = false;
                return Some(Transition::Ejected);
            }
        }
        None
    }

    /// A request to the node failed (connect error, broken connection, 502/503): ejected at
    /// once, and back only after `rise` passed checks.
    pub fn passive_failure(&mut self) -> Option<Transition> {
        self.passes = 0;
        if self.live {
            self.live = false;
            return Some(Transition::Ejected);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: HealthConfig = HealthConfig {
        interval: std::time::Duration::from_millis(100),
        timeout: std::time::Duration::from_millis(100),
        fall: 2,
        rise: 3,
    };

    #[test]
    fn fall_failures_in_a_row_eject_and_rise_passes_readmit() {
        let mut node = NodeHealth::default();
        assert_eq!(node.check(false, &CONFIG), None);
        assert_eq!(node.check(true, &CONFIG), None, "a pass resets the failures");
        assert_eq!(node.check(false, &CONFIG), None);
        assert_eq!(node.check(false, &CONFIG), Some(Transition::Ejected));
        assert!(!node.is_live());
        assert_eq!(node.check(true, &CONFIG), None);
        assert_eq!(node.check(true, &CONFIG), None);
        assert_eq!(node.check(true, &CONFIG), Some(Transition::Readmitted));
        assert_eq!(node.check(true, &CONFIG), None);
    }

    #[test]
    fn a_passive_failure_ejects_at_once_and_restarts_the_rise() {
        let mut node = NodeHealth::default();
        node.check(true, &CONFIG);
        assert_eq!(node.passive_failure(), Some(Transition::Ejected));
        assert_eq!(node.passive_failure(), None);
        node.check(true, &CONFIG);
        node.check(true, &CONFIG);
        assert_eq!(node.passive_failure(), None);
        assert_eq!(node.check(true, &CONFIG), None, "the count started again");
        node.check(true, &CONFIG);
        assert_eq!(node.check(true, &CONFIG), Some(Transition::Readmitted));
    }
}
