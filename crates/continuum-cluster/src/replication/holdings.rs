//! [`Holdings`]: how many sessions and documents a node is the primary of, per owner set — what
//! each node publishes in its membership state so that, when every owner of some keys is gone at
//! once (more than `k` nodes), the survivors can say how many keys nobody holds any more
//! ([`unavailable`]), rather than silently answering 401 for them. Without I/O.
//!
//! Each key is counted once, by its primary, under the owner set (sorted node ids) of the
//! primary's view. After the transfer that follows a membership change, the owners are the
//! holders, so a key whose whole owner set is gone has no copy on any live node.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use continuum_core::Placement;
use continuum_core::placement::PlacementKey;
use continuum_store::DataLoss;

use super::view::Replicas;

/// Sessions and documents of one owner set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Sessions (tombstones included).
    pub sessions: u64,
    /// Documents.
    pub documents: u64,
}

/// A node's primaries, counted per owner set (the owners' ids, sorted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Holdings(pub BTreeMap<Vec<String>, Counts>);

impl Holdings {
    /// Counts one key owned by `owners`.
    pub fn add(&mut self, owners: &[&str], sessions: u64, documents: u64) {
        let mut set: Vec<String> = owners.iter().map(|owner| owner.to_string()).collect();
        set.sort();
        let counts = self.0.entry(set).or_default();
        counts.sessions += sessions;
        counts.documents += documents;
    }

    /// The text published in membership state: `a,b=12/3;a,c=40/0` (owner set = sessions /
    /// documents). Node ids are printable and contain neither `,` `;` nor `=` in practice; an
    /// id that does would only make its counts unreadable ([`Holdings::decode`] skips them).
    pub fn encode(&self) -> String {
        let entries: Vec<String> = self
            .0
            .iter()
            .map(|(owners, counts)| format!("{}={}/{}", owners.join(","), counts.sessions, counts.documents))
            .collect();
        entries.join(";")
    }

    /// The holdings [`Holdings::encode`] wrote; entries that do not parse are skipped.
    pub fn decode(text: &str) -> Self {
        let mut holdings = Self::default();
        for entry in text.split(';').filter(|entry| !entry.is_empty()) {
            let Some((owners, counts)) = entry.split_once('=') else { continue };
            let Some((sessions, documents)) = counts.split_once('/') else { continue };
            let (Ok(sessions), Ok(documents)) = (sessions.parse(), documents.parse()) else { continue };
            let owners: Vec<&str> = owners.split(',').collect();
            holdings.add(&owners, sessions, documents);
        }
        holdings
    }
}

/// What no live node holds: the keys, counted by every node's last known holdings, whose owners
/// are all outside `live`, and the departed nodes that owned them.
pub fn unavailable(known: &HashMap<String, Holdings>, live: &BTreeSet<String>) -> DataLoss {
    let mut loss = DataLoss::default();
    let mut nodes = BTreeSet::new();
    for (node, holdings) in known {
        if live.contains(node) {
            continue;
        }
        for (owners, counts) in &holdings.0 {
            if owners.iter().all(|owner| !live.contains(owner)) {
                loss.sessions += counts.sessions;
                loss.documents += counts.documents;
                nodes.extend(owners.iter().cloned());
            }
        }
    }
    loss.nodes = nodes.into_iter().collect();
    loss
}

/// Whether `key` was held only by nodes `loss` names: ranked over the live nodes and the lost
/// ones together (the membership before the loss), every owner is a lost one. Such a key is
/// unavailable, not absent: a node that holds no copy answers for it with an error, never as if
/// it never existed.
pub fn lost_with(key: &PlacementKey, live: &BTreeSet<String>, loss: &DataLoss, replicas: Replicas) -> bool {
    if loss.is_empty() {
        return false;
    }
    let before = Placement::new(live.iter().chain(&loss.nodes).cloned());
    let owners = match replicas {
        Replicas::Backups(k) => before.owners(key, k),
        Replicas::All => before.rank(key),
    };
    owners.iter().all(|owner| loss.nodes.iter().any(|lost| lost == owner))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|id| id.to_string()).collect()
    }

    fn holdings(entries: &[(&[&str], u64, u64)]) -> Holdings {
        let mut holdings = Holdings::default();
        for (owners, sessions, documents) in entries {
            holdings.add(owners, *sessions, *documents);
        }
        holdings
    }

    #[test]
    fn holdings_round_trip_through_their_text() {
        let written = holdings(&[(&["b", "a"], 12, 3), (&["a", "c"], 40, 0), (&["a", "b"], 1, 1)]);
        assert_eq!(written.encode(), "a,b=13/4;a,c=40/0", "owner sets sorted and merged");
        assert_eq!(Holdings::decode(&written.encode()), written);
        assert_eq!(Holdings::decode(""), Holdings::default());
        assert_eq!(Holdings::decode("a,b=x/1;junk;a,c=2/3"), holdings(&[(&["a", "c"], 2, 3)]));
    }

    #[test]
    fn keys_count_as_unavailable_only_when_every_owner_is_gone() {
        let known: HashMap<String, Holdings> = [
            ("a".to_owned(), holdings(&[(&["a", "b"], 10, 1), (&["a", "c"], 20, 0)])),
            ("b".to_owned(), holdings(&[(&["a", "b"], 5, 2), (&["b", "c"], 7, 0)])),
            ("c".to_owned(), holdings(&[(&["c", "d"], 3, 0)])),
        ]
        .into();
        assert_eq!(unavailable(&known, &live(&["a", "b", "c", "d"])), DataLoss::default());
        // One node gone: every key it owned has another owner.
        assert_eq!(unavailable(&known, &live(&["b", "c", "d"])), DataLoss::default());
        // a and b gone at once: the keys owned by exactly those two, counted by each primary.
        let loss = unavailable(&known, &live(&["c", "d"]));
        assert_eq!((loss.sessions, loss.documents), (15, 3));
        assert_eq!(loss.nodes, ["a", "b"]);
        // A returning owner makes its keys available again.
        assert_eq!(unavailable(&known, &live(&["a", "c", "d"])), DataLoss::default());
    }

    #[test]
    fn a_key_is_lost_with_its_owners_only() {
        let (now, all) = (live(&["c", "d", "e"]), live(&["a", "b", "c", "d", "e"]));
        let loss = DataLoss { sessions: 1, documents: 0, nodes: vec!["a".into(), "b".into()] };
        let before = Placement::new(all.iter().cloned());
        let (mut lost, mut kept) = (0, 0);
        for i in 0..300u32 {
            let key = PlacementKey::session(&continuum_core::SessionId::from_bytes([
                i as u8,
                (i >> 8) as u8,
                9,
                9,
                9,
                9,
                9,
                9,
                9,
                9,
                9,
                9,
                9,
                9,
                9,
                9,
            ]));
            let owners = before.owners(&key, 1);
            let expected = owners.iter().all(|owner| *owner == "a" || *owner == "b");
            assert_eq!(lost_with(&key, &now, &loss, Replicas::Backups(1)), expected);
            assert!(!lost_with(&key, &now, &loss, Replicas::All), "every node held everything");
            assert!(!lost_with(&key, &now, &DataLoss::default(), Replicas::Backups(1)));
            if expected { lost += 1 } else { kept += 1 }
        }
        assert!(lost > 10 && kept > lost, "{lost} lost, {kept} kept");
    }
}
