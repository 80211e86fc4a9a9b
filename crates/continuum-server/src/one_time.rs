//! [`OneTimeCodes`]: short-lived, single-use credentials held in memory — handoff codes and
//! WebSocket tickets.
//!
//! Kept on the node that issued them: a code redeemed on another node of a cluster is unknown
//! there. That is enough for one node and for affinity routing; a shared store is the cluster
//! strategies' issue.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use continuum_core::Timestamp;

/// Why a code could not be issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many codes are outstanding ({capacity}); retry later")]
pub struct Full {
    /// The capacity that was reached.
    pub capacity: usize,
}

/// Codes mapped to what they grant, each valid once until its expiry.
///
/// Bounded: at most `capacity` codes are outstanding; expired ones are dropped when the map is
/// full, and if it is still full the new code is refused ([`Full`]), never an old one evicted.
#[derive(Debug)]
pub struct OneTimeCodes<K, V> {
    codes: Mutex<HashMap<K, (V, Timestamp)>>,
    capacity: usize,
}

impl<K: Eq + Hash, V> OneTimeCodes<K, V> {
    /// An empty map holding at most `capacity` codes.
    pub fn new(capacity: usize) -> Self {
        Self { codes: Mutex::new(HashMap::new()), capacity }
    }

    /// Adds `code`, valid until `expires_at`.
    pub fn insert(&self, code: K, value: V, expires_at: Timestamp, now: Timestamp) -> Result<(), Full> {
        let mut codes = self.codes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if codes.len() >= self.capacity {
            codes.retain(|_, (_, expires)| *expires > now);
        }
        if codes.len() >= self.capacity {
            return Err(Full { capacity: self.capacity });
        }
        codes.insert(code, (value, expires_at));
        Ok(())
    }

    /// Removes `code` and returns what it grants, if it exists and has not expired. A code is
    /// gone after this call whatever it returns.
    pub fn take(&self, code: &K, now: Timestamp) -> Option<V> {
        let mut codes = self.codes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (value, expires_at) = codes.remove(code)?;
        (now < expires_at).then_some(value)
    }

    /// Removes every code for which `matches` is true (e.g. all codes of a revoked session).
    pub fn remove_where(&self, mut matches: impl FnMut(&V) -> bool) {
        let mut codes = self.codes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        codes.retain(|_, (value, _)| !matches(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp::from_millis(1_000);

    #[test]
    fn a_code_works_once_and_only_before_it_expires() {
        let codes = OneTimeCodes::new(10);
        codes.insert("a", 1, Timestamp::from_millis(2_000), T0).unwrap();
        codes.insert("b", 2, Timestamp::from_millis(2_000), T0).unwrap();
        assert_eq!(codes.take(&"a", T0), Some(1));
        assert_eq!(codes.take(&"a", T0), None, "single use");
        assert_eq!(codes.take(&"b", Timestamp::from_millis(2_000)), None, "expired");
        assert_eq!(codes.take(&"missing", T0), None);
    }

    #[test]
    fn a_full_map_drops_expired_codes_then_refuses() {
        let codes = OneTimeCodes::new(2);
        codes.insert(1, (), Timestamp::from_millis(1_500), T0).unwrap();
        codes.insert(2, (), Timestamp::from_millis(5_000), T0).unwrap();
        assert_eq!(codes.insert(3, (), Timestamp::from_millis(5_000), T0), Err(Full { capacity: 2 }));
        let later = Timestamp::from_millis(1_600);
        codes.insert(3, (), Timestamp::from_millis(5_000), later).unwrap();
        assert_eq!(codes.take(&2, later), Some(()), "live codes are never evicted");
    }

    #[test]
    fn codes_can_be_withdrawn_by_what_they_grant() {
        let codes = OneTimeCodes::new(10);
        codes.insert("x", "session-1", Timestamp::from_millis(9_000), T0).unwrap();
        codes.insert("y", "session-2", Timestamp::from_millis(9_000), T0).unwrap();
        codes.remove_where(|granted| *granted == "session-1");
        assert_eq!(codes.take(&"x", T0), None);
        assert_eq!(codes.take(&"y", T0), Some("session-2"));
    }
}
