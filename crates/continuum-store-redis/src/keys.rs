//! [`Keys`]: the name of every Redis key the store uses, with its Redis Cluster hash tag.
//!
//! A hash tag is the text between the first `{` and the next `}` of a key; on a cluster only the
//! tag decides the slot, so keys with the same tag live on the same node and one Lua script may
//! touch them together. Every tag here is base64url or a session id (which is base64url), so it
//! never contains a brace, and the prefix is refused if it does (see [`crate::RedisConfig`]).
//!
//! The crate docs have the table of every key.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use continuum_core::{DocKey, Principal, Scope, SessionId};

/// How many sorted sets the expiry index is split into. Part of the key layout: changing it
/// would orphan the entries of the shards that disappear, so it is a constant, not a setting.
pub const EXPIRY_SHARDS: usize = 16;

/// Builds key names under one prefix.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    prefix: String,
}

/// The keys of one document, all on the slot of its scope.
#[derive(Debug, Clone)]
pub(crate) struct DocKeys {
    /// Metadata hash: `last`, `ct`, `vn`.
    pub meta: String,
    /// The update log (a list).
    pub updates: String,
    /// The snapshot (a string).
    pub snapshot: String,
    /// Version metadata (a hash).
    pub version_meta: String,
    /// Version states (a hash).
    pub version_states: String,
    /// The scope's set of document names.
    pub names: String,
}

impl Keys {
    /// Keys under `prefix` (already checked to hold no brace).
    pub(crate) fn new(prefix: &str) -> Self {
        Self { prefix: prefix.to_owned() }
    }

    /// The hash holding one session.
    pub(crate) fn session(&self, sid: &SessionId) -> String {
        format!("{}s:{{{sid}}}", self.prefix)
    }

    /// The set of a principal's session ids.
    pub(crate) fn principal(&self, principal: &Principal) -> String {
        format!("{}p:{{{}}}", self.prefix, URL_SAFE_NO_PAD.encode(principal.as_str()))
    }

    /// A principal's epoch (a string holding an integer), on the slot of the principal's set.
    pub(crate) fn epoch(&self, principal: &Principal) -> String {
        format!("{}e:{{{}}}", self.prefix, URL_SAFE_NO_PAD.encode(principal.as_str()))
    }

    /// The expiry shard a session's entry lives in: chosen from the sid's first byte (random),
    /// so entries spread evenly and a session always maps to the same shard.
    pub(crate) fn expiry_for(&self, sid: &SessionId) -> String {
        self.expiry_shard(usize::from(sid.as_bytes()[0]) % EXPIRY_SHARDS)
    }

    /// Expiry shard `n`, `0..EXPIRY_SHARDS`.
    pub(crate) fn expiry_shard(&self, n: usize) -> String {
        format!("{}x:{{{n}}}", self.prefix)
    }

    /// Every expiry shard.
    pub(crate) fn expiry_shards(&self) -> impl Iterator<Item = String> + '_ {
        (0..EXPIRY_SHARDS).map(|n| self.expiry_shard(n))
    }

    /// The keys of one document.
    pub(crate) fn doc(&self, key: &DocKey) -> DocKeys {
        let base = format!("{}d:{{{}}}:{}", self.prefix, scope_tag(&key.scope), key.name);
        DocKeys {
            meta: format!("{base}:m"),
            updates: format!("{base}:u"),
            snapshot: format!("{base}:s"),
            version_meta: format!("{base}:vm"),
            version_states: format!("{base}:vs"),
            names: self.doc_names(&key.scope),
        }
    }

    /// The set of a scope's document names.
    pub(crate) fn doc_names(&self, scope: &Scope) -> String {
        format!("{}n:{{{}}}", self.prefix, scope_tag(scope))
    }
}

/// The entry of a session in the expiry index: `<sid>:<principal>`, so the sweeper can clean the
/// principal index even when the session's key is already gone.
pub(crate) fn expiry_member(sid: &SessionId, principal: &Principal) -> String {
    format!("{sid}:{principal}")
}

/// Splits an expiry index entry; `None` if it is not one.
pub(crate) fn parse_expiry_member(member: &str) -> Option<(SessionId, Principal)> {
    let (sid, principal) = member.split_once(':')?;
    Some((SessionId::parse(sid).ok()?, Principal::parse_any(principal).ok()?))
}

fn scope_tag(scope: &Scope) -> String {
    URL_SAFE_NO_PAD.encode(scope.to_string())
}

/// The hash tag of a key, as Redis Cluster finds it (used by tests).
#[cfg(test)]
pub(crate) fn hash_tag(key: &str) -> &str {
    match key.find('{') {
        Some(open) => match key[open + 1..].find('}') {
            Some(len) if len > 0 => &key[open + 1..open + 1 + len],
            _ => key,
        },
        None => key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(text: &str) -> Principal {
        Principal::parse(text).unwrap()
    }

    #[test]
    fn braces_in_principals_and_scopes_cannot_move_a_tag() {
        let keys = Keys::new("app:");
        let tricky = principal("a}b{c");
        assert_eq!(hash_tag(&keys.principal(&tricky)), URL_SAFE_NO_PAD.encode("a}b{c"));
        assert_eq!(hash_tag(&keys.epoch(&tricky)), hash_tag(&keys.principal(&tricky)));
        assert_ne!(keys.epoch(&tricky), keys.principal(&tricky));
        let doc = DocKey::parse("user:}{", "x").unwrap();
        let doc_keys = keys.doc(&doc);
        let tag = hash_tag(&doc_keys.meta);
        for key in [&doc_keys.updates, &doc_keys.snapshot, &doc_keys.version_meta, &doc_keys.version_states] {
            assert_eq!(hash_tag(key), tag, "{key}");
        }
        assert_eq!(hash_tag(&doc_keys.names), tag, "the names set lives with the scope's documents");
    }

    #[test]
    fn a_session_key_is_tagged_by_its_sid() {
        let keys = Keys::new("app:");
        let sid = SessionId::generate();
        assert_eq!(keys.session(&sid), format!("app:s:{{{sid}}}"));
        assert_eq!(hash_tag(&keys.session(&sid)), sid.to_string());
        assert!(keys.expiry_shards().any(|shard| shard == keys.expiry_for(&sid)));
        assert_eq!(keys.expiry_shards().count(), EXPIRY_SHARDS);
    }

    #[test]
    fn expiry_members_round_trip_even_with_colons_in_the_principal() {
        let sid = SessionId::generate();
        let who = principal("tenant:alice");
        assert_eq!(parse_expiry_member(&expiry_member(&sid, &who)), Some((sid, who)));
        assert_eq!(parse_expiry_member("nonsense"), None);
    }

    #[test]
    fn scopes_that_share_a_prefix_get_distinct_keys() {
        let keys = Keys::new("app:");
        let a = keys.doc(&DocKey::parse("user:a/b", "c").unwrap());
        let b = keys.doc(&DocKey::parse("user:a", "b-c").unwrap());
        assert_ne!(a.meta, b.meta);
        assert_ne!(a.names, b.names);
    }
}
