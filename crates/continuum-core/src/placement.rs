//! Placement: which nodes own a key — the rendezvous (highest-random-weight) ranking of the key
//! over the live node ids, primary first, then the backups.
//!
//! The cluster uses it to decide who holds a session or a document and the gateway uses it to
//! route, so a request reaches the node that holds its data with no extra hop. For that the
//! ranking must be the same in every process and every build, so the weight is a fixed,
//! specified function of bytes (below) and never Rust's `Hash` (whose output for `str` is not
//! promised across compiler releases) or a seeded hasher.
//!
//! Weight of node `n` for key `k`: `mix(h(k) ^ h(n))`, where `h` is 64-bit FNV-1a over the bytes
//! followed by `mix`, and `mix` is MurmurHash3's 64-bit finaliser. Each node's `h(n)` is computed
//! once, so ranking a key costs one pass over its bytes and one multiply-shift per node. Equal
//! weights (never seen; 2⁻⁶⁴ per pair) fall back to the node id, so the order is total.
//!
//! Rendezvous ranking moves the minimum when membership changes: a node joining takes over only
//! the keys it now ranks first for (about 1/N of them), a node leaving hands over only its own,
//! and every other key keeps its owners in the same order.

use crate::DocKey;
use crate::id::SessionId;
use crate::principal::Principal;

/// The live nodes and their precomputed hashes, ready to rank keys.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    /// Node ids with `h(id)`, sorted by id and without duplicates.
    nodes: Vec<(String, u64)>,
}

impl Placement {
    /// Placement over these node ids (duplicates count once; the order given does not matter).
    pub fn new<I, S>(nodes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut nodes: Vec<(String, u64)> = nodes
            .into_iter()
            .map(|id| {
                let id = id.into();
                let hash = hash(id.as_bytes());
                (id, hash)
            })
            .collect();
        nodes.sort_by(|a, b| a.0.cmp(&b.0));
        nodes.dedup_by(|a, b| a.0 == b.0);
        Self { nodes }
    }

    /// The node ids, sorted.
    pub fn nodes(&self) -> impl Iterator<Item = &str> {
        self.nodes.iter().map(|(id, _)| id.as_str())
    }

    /// How many nodes there are.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every node, ranked for `key`: the primary first.
    pub fn rank(&self, key: &PlacementKey) -> Vec<&str> {
        let mut weighted: Vec<(u64, &str)> = self.weights(key).collect();
        weighted.sort_unstable_by(ranked_first);
        weighted.into_iter().map(|(_, id)| id).collect()
    }

    /// The owners of `key`: the primary and up to `backups` more, in rank order (fewer when there
    /// are fewer nodes).
    pub fn owners(&self, key: &PlacementKey, backups: usize) -> Vec<&str> {
        let mut ranked = self.rank(key);
        ranked.truncate(backups.saturating_add(1));
        ranked
    }

    /// The primary owner of `key`, if there is any node.
    pub fn primary(&self, key: &PlacementKey) -> Option<&str> {
        self.weights(key).min_by(ranked_first).map(|(_, id)| id)
    }

    /// Each node's weight for `key`, with its id.
    fn weights<'a>(&'a self, key: &PlacementKey) -> impl Iterator<Item = (u64, &'a str)> {
        let key_hash = hash(&key.0);
        self.nodes.iter().map(move |(id, node_hash)| (mix(key_hash ^ node_hash), id.as_str()))
    }
}

/// The ranking order: highest weight first; the id breaks a tie, so the order is total.
fn ranked_first(a: &(u64, &str), b: &(u64, &str)) -> std::cmp::Ordering {
    b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1))
}

/// What is placed: a session (by sid) or a continuity document (by scope and name), as the
/// bytes the ranking hashes. Sessions and documents never share a key (each has its own tag).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PlacementKey(Vec<u8>);

impl PlacementKey {
    /// A session's key: `s`, a 0 byte, and the sid's 16 bytes.
    pub fn session(sid: &SessionId) -> Self {
        let mut key = Vec::with_capacity(18);
        key.extend_from_slice(b"s\0");
        key.extend_from_slice(sid.as_bytes());
        Self(key)
    }

    /// A principal's key: `p`, a 0 byte and the principal's UTF-8 bytes, for what is kept per
    /// principal rather than per session (the sign-out-everywhere epoch).
    pub fn principal(principal: &Principal) -> Self {
        let mut key = b"p\0".to_vec();
        key.extend_from_slice(principal.as_str().as_bytes());
        Self(key)
    }

    /// A document's key: `d`, a 0 byte, and [`DocKey::storage_key`], so every socket of one
    /// document meets on the same node.
    pub fn doc(doc: &DocKey) -> Self {
        let mut key = b"d\0".to_vec();
        key.extend_from_slice(&doc.storage_key());
        Self(key)
    }

    /// A client address's key: `c`, a 0 byte, and the address's 4 or 16 bytes, for routing by
    /// client IP (nginx's `ip_hash`), which the gateway keeps for comparison.
    pub fn client(ip: std::net::IpAddr) -> Self {
        let mut key = b"c\0".to_vec();
        match ip {
            std::net::IpAddr::V4(v4) => key.extend_from_slice(&v4.octets()),
            std::net::IpAddr::V6(v6) => key.extend_from_slice(&v6.octets()),
        }
        Self(key)
    }

    /// The bytes hashed.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

/// MurmurHash3's `fmix64`: spreads every input bit over the whole word (FNV-1a alone leaves the
/// high bits weak for short inputs).
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// The specified 64-bit hash placement ranks with (FNV-1a 64, then Murmur3's fmix64): the same
/// for the same bytes on every build, so nodes built apart agree on what it names (a view's
/// fingerprint, a lock stripe).
pub fn stable_hash(bytes: &[u8]) -> u64 {
    hash(bytes)
}

fn hash(bytes: &[u8]) -> u64 {
    mix(fnv1a(bytes))
}

#[cfg(test)]
mod tests;
