//! [`View`]: the live members of the cluster as this node sees them, and what follows from it —
//! who owns a key, whether this node may serve — as decisions without I/O.

use std::net::SocketAddr;

use continuum_core::placement::{Placement, PlacementKey, stable_hash};

/// How many nodes hold each key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replicas {
    /// A primary and this many backups (`replicas = k`; fewer when fewer nodes are live).
    Backups(usize),
    /// Every live node holds everything (Tomcat DeltaManager's model), for comparison.
    All,
}

impl Default for Replicas {
    fn default() -> Self {
        Self::Backups(1)
    }
}

impl std::str::FromStr for Replicas {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.eq_ignore_ascii_case("all") {
            return Ok(Self::All);
        }
        text.parse::<usize>()
            .map(Self::Backups)
            .map_err(|_| format!("replicas must be a number of backups or `all`, not {text:?}"))
    }
}

impl std::fmt::Display for Replicas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Backups(k) => write!(f, "{k}"),
            Self::All => f.write_str("all"),
        }
    }
}

/// One live node: its id and where its peers reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The node id (`--node-id`), unique in the cluster.
    pub id: String,
    /// Its `--cluster-listen` address: gossip (UDP) and replication (TCP) share the port.
    pub peer_addr: SocketAddr,
}

/// The live members as one node sees them, with the ranking over them.
///
/// Two nodes agree on who owns a key exactly when their views have the same
/// [`View::fingerprint`]; replicated writes carry it, and a node whose view differs refuses
/// them, so a primary deposed by a membership change cannot overwrite its successor's copy.
#[derive(Clone, Debug)]
pub struct View {
    members: Vec<Member>,
    placement: Placement,
    fingerprint: u64,
    expected: usize,
}

impl View {
    /// The view of `members` in a cluster of `expected` nodes (the size quorum is counted
    /// against: the configured peers and this node, or the most ever seen live).
    pub fn new(mut members: Vec<Member>, expected: usize) -> Self {
        members.sort_by(|a, b| a.id.cmp(&b.id));
        members.dedup_by(|a, b| a.id == b.id);
        let placement = Placement::new(members.iter().map(|member| member.id.clone()));
        let ids: Vec<u8> = members.iter().flat_map(|member| member.id.bytes().chain([0])).collect();
        let fingerprint = stable_hash(&ids);
        let expected = expected.max(members.len());
        Self { members, placement, fingerprint, expected }
    }

    /// The live members, sorted by id.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The member with this id, if live.
    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|member| member.id == id)
    }

    /// A number that two views share exactly when their members are the same.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The cluster size quorum is counted against.
    pub fn expected(&self) -> usize {
        self.expected
    }

    /// Whether more than half of the expected nodes are live here: a node without a quorum
    /// serves no session or document (it may be the small side of a partition).
    pub fn has_quorum(&self) -> bool {
        self.members.len() * 2 > self.expected
    }

    /// The owners of `key`, primary first.
    pub fn owners(&self, key: &PlacementKey, replicas: Replicas) -> Vec<&str> {
        match replicas {
            Replicas::Backups(k) => self.placement.owners(key, k),
            Replicas::All => self.placement.rank(key),
        }
    }

    /// The primary of `key`.
    pub fn primary(&self, key: &PlacementKey) -> Option<&str> {
        self.placement.primary(key)
    }
}

/// What a node does with a request for one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route<'a> {
    /// This node is the primary: it applies writes and sends them to these backups.
    Primary {
        /// The backups, in rank order.
        backups: Vec<&'a str>,
    },
    /// This node is a backup: it may answer reads; writes go to the primary.
    Backup {
        /// The primary.
        primary: &'a str,
    },
    /// This node holds no copy: everything goes to the primary, in one hop.
    Forward {
        /// The primary.
        primary: &'a str,
    },
    /// Fewer than a quorum of nodes are live here: refuse.
    NoQuorum,
}

impl Route<'_> {
    /// Whether this node holds a copy it may read.
    pub fn reads_locally(&self) -> bool {
        matches!(self, Route::Primary { .. } | Route::Backup { .. })
    }
}

/// How node `me` handles `key` under `view`.
pub fn route<'a>(view: &'a View, me: &str, key: &PlacementKey, replicas: Replicas) -> Route<'a> {
    if !view.has_quorum() {
        return Route::NoQuorum;
    }
    let owners = view.owners(key, replicas);
    let Some((&primary, backups)) = owners.split_first() else { return Route::NoQuorum };
    if primary == me {
        Route::Primary { backups: backups.to_vec() }
    } else if backups.contains(&me) {
        Route::Backup { primary }
    } else {
        Route::Forward { primary }
    }
}

/// A view of members with these ids (on ports 7000, 7001, … of loopback), expecting
/// `expected` nodes: for the tests of the decisions made on views.
#[cfg(test)]
pub(crate) fn test_view(ids: &[&str], expected: usize) -> View {
    let members = ids
        .iter()
        .enumerate()
        .map(|(i, id)| Member { id: (*id).into(), peer_addr: ([127, 0, 0, 1], 7000 + i as u16).into() })
        .collect();
    View::new(members, expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use continuum_core::SessionId;

    fn view(ids: &[&str], expected: usize) -> View {
        test_view(ids, expected)
    }

    #[test]
    fn quorum_is_a_strict_majority_of_the_expected_size() {
        assert!(view(&["a", "b"], 3).has_quorum());
        assert!(!view(&["a"], 3).has_quorum());
        assert!(!view(&["a", "b"], 4).has_quorum());
        // A view larger than expected raises the expectation.
        assert_eq!(view(&["a", "b", "c", "d"], 3).expected(), 4);
    }

    #[test]
    fn fingerprints_name_the_member_set() {
        assert_eq!(view(&["a", "b"], 2).fingerprint(), view(&["b", "a"], 2).fingerprint());
        assert_ne!(view(&["a", "b"], 2).fingerprint(), view(&["a", "c"], 2).fingerprint());
        // Ids are separated: "ab" + "c" is not "a" + "bc".
        assert_ne!(view(&["ab", "c"], 2).fingerprint(), view(&["a", "bc"], 2).fingerprint());
    }

    #[test]
    fn every_key_has_one_primary_and_k_backups() {
        let view = view(&["a", "b", "c"], 3);
        for _ in 0..200 {
            let key = PlacementKey::session(&SessionId::generate());
            let routes: Vec<Route> =
                ["a", "b", "c"].iter().map(|me| route(&view, me, &key, Replicas::Backups(1))).collect();
            assert_eq!(routes.iter().filter(|r| matches!(r, Route::Primary { .. })).count(), 1);
            assert_eq!(routes.iter().filter(|r| matches!(r, Route::Backup { .. })).count(), 1);
            assert_eq!(routes.iter().filter(|r| matches!(r, Route::Forward { .. })).count(), 1);
            let all: Vec<Route> =
                ["a", "b", "c"].iter().map(|me| route(&view, me, &key, Replicas::All)).collect();
            assert_eq!(all.iter().filter(|r| matches!(r, Route::Backup { .. })).count(), 2);
        }
    }

    #[test]
    fn without_quorum_nothing_is_served() {
        let key = PlacementKey::session(&SessionId::generate());
        assert_eq!(route(&view(&["a"], 3), "a", &key, Replicas::Backups(1)), Route::NoQuorum);
    }

    #[test]
    fn replicas_parse() {
        assert_eq!("all".parse::<Replicas>(), Ok(Replicas::All));
        assert_eq!("2".parse::<Replicas>(), Ok(Replicas::Backups(2)));
        assert!("-1".parse::<Replicas>().is_err());
    }
}
