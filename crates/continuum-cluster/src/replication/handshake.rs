//! The handshake of a node-to-node connection: the dialer's [`Hello`], the listener's
//! [`Welcome`], and the check that refuses a peer of another wire version or cluster with the
//! reason, so a peer is never misread (`super::wire` is the rest of the format).

use serde::{Deserialize, Serialize};

/// The version of this wire format. A change that an older node would misread gets a new one.
pub const WIRE_VERSION: u32 = 3;

/// What the handshake starts with, so that something else on the port is told apart at once.
pub const MAGIC: &str = "continuum-cluster";

/// The dialer's first frame.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`MAGIC`].
    pub magic: String,
    /// The dialer's [`WIRE_VERSION`].
    pub version: u32,
    /// The cluster it belongs to.
    pub cluster: String,
    /// Its node id.
    pub node: String,
}

/// The listener's answer to a [`Hello`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Welcome {
    /// Go on.
    Accepted {
        /// The listener's node id.
        node: String,
    },
    /// Not a peer of this node; the connection closes.
    Refused {
        /// Why, for both sides' logs.
        reason: String,
    },
}

/// Whether a listener of `version` in `cluster` takes `hello`: the reason it does not, if not.
pub fn check_hello(hello: &Hello, cluster: &str) -> Result<(), String> {
    if hello.magic != MAGIC {
        return Err(format!("not a Continuum cluster peer (handshake {:?})", hello.magic));
    }
    if hello.version != WIRE_VERSION {
        return Err(format!(
            "node {} speaks cluster wire version {}, this node speaks {WIRE_VERSION}: run one version of continuum in a cluster",
            hello.node, hello.version
        ));
    }
    if hello.cluster != cluster {
        return Err(format!(
            "node {} belongs to cluster {:?}, this node to {cluster:?}",
            hello.node, hello.cluster
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(version: u32, cluster: &str) -> Hello {
        Hello { magic: MAGIC.into(), version, cluster: cluster.into(), node: "b".into() }
    }

    #[test]
    fn a_peer_of_another_version_or_cluster_is_refused_with_the_reason() {
        assert_eq!(check_hello(&hello(WIRE_VERSION, "c1"), "c1"), Ok(()));
        let other = check_hello(&hello(WIRE_VERSION - 1, "c1"), "c1").expect_err("refused");
        let (theirs, ours) = (format!("wire version {}", WIRE_VERSION - 1), format!("speaks {WIRE_VERSION}"));
        assert!(other.contains(&theirs) && other.contains(&ours), "{other}");
        let cluster = check_hello(&hello(WIRE_VERSION, "c2"), "c1").expect_err("refused");
        assert!(cluster.contains("\"c2\""), "{cluster}");
        let stranger = Hello { magic: "GET / HTTP/1.1".into(), ..hello(WIRE_VERSION, "c1") };
        assert!(check_hello(&stranger, "c1").is_err());
    }
}
