//! Placement's properties: published FNV-1a vectors, a pinned ranking (the compatibility
//! promise between processes and builds), minimal movement on join and leave, and balance.

use proptest::prelude::*;

use super::*;

fn nodes(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("node-{i}")).collect()
}

fn key(i: u32) -> PlacementKey {
    let mut sid = [0u8; 16];
    sid[..4].copy_from_slice(&i.to_le_bytes());
    PlacementKey::session(&SessionId::from_bytes(sid))
}

#[test]
fn fnv1a_matches_the_published_vectors() {
    // From the FNV reference test suite (Landon Curt Noll, fnv-1a 64-bit).
    assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
}

#[test]
fn the_ranking_is_pinned() {
    // Every process and every build must rank alike (a gateway and its nodes may be built
    // apart); a change here moves keys between nodes in a running cluster, so it must be a
    // deliberate, versioned change, never an accident.
    let placement = Placement::new(["a", "b", "c", "d", "e"]);
    let ranked: Vec<Vec<&str>> = (0..4).map(|i| placement.rank(&key(i))).collect();
    insta::assert_json_snapshot!(ranked);
    let doc = DocKey::parse("user:alice", "draft").unwrap();
    insta::assert_json_snapshot!(placement.rank(&PlacementKey::doc(&doc)));
}

#[test]
fn order_given_and_duplicates_do_not_matter() {
    let one = Placement::new(["c", "a", "b", "a"]);
    let two = Placement::new(["a", "b", "c"]);
    assert_eq!(one, two);
    assert_eq!(one.len(), 3);
    for i in 0..100 {
        assert_eq!(one.rank(&key(i)), two.rank(&key(i)));
    }
}

#[test]
fn owners_are_the_head_of_the_ranking() {
    let placement = Placement::new(nodes(4));
    for i in 0..200 {
        let ranked = placement.rank(&key(i));
        assert_eq!(ranked.len(), 4);
        assert_eq!(placement.owners(&key(i), 1), ranked[..2]);
        assert_eq!(placement.owners(&key(i), 9), ranked);
        assert_eq!(placement.primary(&key(i)), Some(ranked[0]));
    }
    assert_eq!(Placement::default().primary(&key(0)), None);
    assert!(Placement::default().owners(&key(0), 1).is_empty());
}

#[test]
fn sessions_and_documents_do_not_share_keys() {
    let sid = SessionId::from_bytes([7; 16]);
    let doc = DocKey::parse("user:alice", "draft").unwrap();
    assert_ne!(PlacementKey::session(&sid).as_bytes(), PlacementKey::doc(&doc).as_bytes());
    assert_eq!(&PlacementKey::session(&sid).as_bytes()[2..], sid.as_bytes());
}

#[test]
fn client_addresses_have_their_own_tag_and_bytes() {
    let v4: std::net::IpAddr = "10.0.0.1".parse().unwrap();
    let v6: std::net::IpAddr = "::ffff:10.0.0.1".parse().unwrap();
    assert_eq!(PlacementKey::client(v4).as_bytes(), b"c\0\x0a\0\0\x01");
    assert_eq!(PlacementKey::client(v6).as_bytes().len(), 18, "an IPv6 address is its 16 bytes");
    assert_ne!(PlacementKey::client(v4), PlacementKey::client(v6));
}

/// The share of `keys` whose primary differs between two placements.
fn moved(before: &Placement, after: &Placement, keys: u32) -> f64 {
    let moved = (0..keys).filter(|i| before.primary(&key(*i)) != after.primary(&key(*i))).count();
    moved as f64 / f64::from(keys)
}

#[test]
fn a_join_or_a_leave_moves_about_one_nth_of_the_keys() {
    const KEYS: u32 = 20_000;
    for count in 2..=8 {
        let before = Placement::new(nodes(count));
        let joined = Placement::new(nodes(count + 1));
        let expected = 1.0 / (count + 1) as f64;
        let share = moved(&before, &joined, KEYS);
        assert!((share - expected).abs() < 0.2 * expected, "join to {}: {share} moved", count + 1);
        // A leave is the join backwards.
        assert_eq!(moved(&joined, &before, KEYS), share);
    }
}

#[test]
fn keys_spread_evenly() {
    const KEYS: u32 = 30_000;
    for count in [3, 5, 7] {
        let placement = Placement::new(nodes(count));
        let mut per_node = std::collections::BTreeMap::<&str, u32>::new();
        for i in 0..KEYS {
            *per_node.entry(placement.primary(&key(i)).unwrap()).or_default() += 1;
        }
        let fair = f64::from(KEYS) / count as f64;
        for (node, owned) in per_node {
            assert!((f64::from(owned) - fair).abs() < 0.1 * fair, "{node} owns {owned} of {KEYS}");
        }
    }
}

proptest! {
    /// A node joining changes nothing for the others: every key's ranking without the new node
    /// is exactly its old ranking, so a key moves only to the newcomer.
    #[test]
    fn a_join_only_inserts_the_newcomer(
        ids in proptest::collection::btree_set("[a-z0-9]{1,12}", 1..8),
        newcomer in "[A-Z]{1,12}",
        sid in any::<[u8; 16]>(),
    ) {
        let key = PlacementKey::session(&SessionId::from_bytes(sid));
        let before = Placement::new(ids.iter().cloned());
        let after = Placement::new(ids.iter().cloned().chain([newcomer.clone()]));
        let without: Vec<&str> = after.rank(&key).into_iter().filter(|id| *id != newcomer).collect();
        prop_assert_eq!(without, before.rank(&key));
    }

    /// A node leaving hands over only its own keys: the others keep their order.
    #[test]
    fn a_leave_only_removes_the_leaver(
        ids in proptest::collection::btree_set("[a-z0-9]{1,12}", 2..8),
        leaver in 0usize..8,
        scope in "[a-z]{1,8}",
        name in "[a-z]{1,8}",
    ) {
        let ids: Vec<String> = ids.into_iter().collect();
        let leaver = ids[leaver % ids.len()].clone();
        let doc = DocKey::parse(&format!("user:{scope}"), &name).unwrap();
        let key = PlacementKey::doc(&doc);
        let before = Placement::new(ids.iter().cloned());
        let after = Placement::new(ids.iter().filter(|id| **id != leaver).cloned());
        let expected: Vec<&str> = before.rank(&key).into_iter().filter(|id| *id != leaver).collect();
        prop_assert_eq!(after.rank(&key), expected);
    }
}
