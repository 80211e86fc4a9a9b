//! [`OneTimeCodes`]: short-lived, single-use credentials held in memory — handoff codes and
//! WebSocket tickets — bounded per node and per issuing session.
//!
//! Kept on the node that issued them: a code redeemed on another node of a cluster is unknown
//! there. That is enough for one node and behind `continuum gateway`, which learns each code's
//! issuer from the answer that issued it and sends the redemption there.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

use continuum_core::{SessionId, Timestamp};

/// Why a code could not be issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IssueError {
    /// The node holds as many codes as it may; every issuer is refused until some expire or are
    /// used.
    #[error("too many codes are outstanding on this server ({capacity}); retry later")]
    Full {
        /// The node's capacity that was reached.
        capacity: usize,
    },
    /// This issuer holds as many live codes as one issuer may; other issuers are unaffected.
    #[error("this session already has {limit} outstanding codes; use one or wait until one expires")]
    IssuerFull {
        /// The per-issuer limit that was reached.
        limit: usize,
        /// When the issuer's oldest code expires and a new one can be issued.
        retry_after: Duration,
    },
}

struct Table<K, V, I> {
    codes: HashMap<K, Entry<V, I>>,
    /// Each issuer's codes with their expiry, at most `per_issuer` of them: a code is here
    /// exactly when it is in `codes`.
    issued: HashMap<I, Vec<(K, Timestamp)>>,
}

struct Entry<V, I> {
    value: V,
    issuer: I,
    expires_at: Timestamp,
}

impl<K: Eq + Hash + Clone, V, I: Eq + Hash + Clone> Table<K, V, I> {
    /// Forgets `code` from its issuer's list.
    fn unlist(&mut self, issuer: &I, code: &K) {
        if let Some(list) = self.issued.get_mut(issuer) {
            list.retain(|(listed, _)| listed != code);
            if list.is_empty() {
                self.issued.remove(issuer);
            }
        }
    }

    /// Drops every expired code: O(codes), run only when the node is full.
    fn purge_expired(&mut self, now: Timestamp) {
        self.codes.retain(|_, entry| entry.expires_at > now);
        self.issued.retain(|_, list| {
            list.retain(|(_, expires)| *expires > now);
            !list.is_empty()
        });
    }

    /// Drops `issuer`'s expired codes: O(per-issuer limit).
    fn purge_issuer(&mut self, issuer: &I, now: Timestamp) -> usize {
        let Some(list) = self.issued.get_mut(issuer) else { return 0 };
        let codes = &mut self.codes;
        list.retain(|(code, expires)| {
            let live = *expires > now;
            if !live {
                codes.remove(code);
            }
            live
        });
        let left = list.len();
        if left == 0 {
            self.issued.remove(issuer);
        }
        left
    }
}

/// Codes mapped to what they grant, each valid once until its expiry.
///
/// Bounded twice: one issuer (a session) holds at most `per_issuer` live codes, so no session can
/// fill the table for the others; and the node holds at most `capacity` (expired ones are
/// dropped when it is full). Past either bound the new code is refused, never an old one
/// evicted: a code someone is about to type keeps working.
pub struct OneTimeCodes<K, V, I = SessionId> {
    table: Mutex<Table<K, V, I>>,
    capacity: usize,
    per_issuer: usize,
}

impl<K, V, I> std::fmt::Debug for OneTimeCodes<K, V, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OneTimeCodes")
            .field("capacity", &self.capacity)
            .field("per_issuer", &self.per_issuer)
            .finish_non_exhaustive()
    }
}

impl<K: Eq + Hash + Clone, V, I: Eq + Hash + Clone> OneTimeCodes<K, V, I> {
    /// An empty map holding at most `capacity` codes, and `per_issuer` for one issuer.
    pub fn new(capacity: usize, per_issuer: usize) -> Self {
        let table = Table { codes: HashMap::new(), issued: HashMap::new() };
        Self { table: Mutex::new(table), capacity, per_issuer }
    }

    /// How many live codes one issuer may hold.
    pub fn per_issuer(&self) -> usize {
        self.per_issuer
    }

    /// Adds `code`, issued by `issuer`, valid until `expires_at`.
    pub fn insert(
        &self,
        code: K,
        value: V,
        issuer: I,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), IssueError> {
        let mut table = self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if table.purge_issuer(&issuer, now) >= self.per_issuer {
            let oldest = table.issued[&issuer].iter().map(|(_, expires)| *expires).min().unwrap_or(now);
            let retry_after = oldest.saturating_since(now);
            return Err(IssueError::IssuerFull { limit: self.per_issuer, retry_after });
        }
        if table.codes.len() >= self.capacity {
            table.purge_expired(now);
        }
        if table.codes.len() >= self.capacity {
            return Err(IssueError::Full { capacity: self.capacity });
        }
        table.issued.entry(issuer.clone()).or_default().push((code.clone(), expires_at));
        table.codes.insert(code, Entry { value, issuer, expires_at });
        Ok(())
    }

    /// Removes `code` and returns what it grants, if it exists and has not expired. A code is
    /// gone after this call whatever it returns.
    pub fn take(&self, code: &K, now: Timestamp) -> Option<V> {
        let mut table = self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = table.codes.remove(code)?;
        table.unlist(&entry.issuer, code);
        (now < entry.expires_at).then_some(entry.value)
    }

    /// What `code` grants, if it exists and has not expired, leaving it in place: to decide
    /// whether to refuse a redemption without using the code up.
    pub fn peek(&self, code: &K, now: Timestamp) -> Option<V>
    where
        V: Clone,
    {
        let table = self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        table.codes.get(code).filter(|entry| now < entry.expires_at).map(|entry| entry.value.clone())
    }

    /// Removes every code `issuer` issued (e.g. all codes of a revoked session).
    pub fn remove_issued_by(&self, issuer: &I) {
        let mut table = self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for (code, _) in table.issued.remove(issuer).unwrap_or_default() {
            table.codes.remove(&code);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Timestamp = Timestamp::from_millis(1_000);

    #[test]
    fn a_code_works_once_and_only_before_it_expires() {
        let codes = OneTimeCodes::new(10, 10);
        codes.insert("a", 1, "s", Timestamp::from_millis(2_000), T0).unwrap();
        codes.insert("b", 2, "s", Timestamp::from_millis(2_000), T0).unwrap();
        assert_eq!(codes.take(&"a", T0), Some(1));
        assert_eq!(codes.take(&"a", T0), None, "single use");
        assert_eq!(codes.take(&"b", Timestamp::from_millis(2_000)), None, "expired");
        assert_eq!(codes.take(&"missing", T0), None);
    }

    #[test]
    fn a_full_map_drops_expired_codes_then_refuses() {
        let codes = OneTimeCodes::new(2, 10);
        codes.insert(1, (), "s", Timestamp::from_millis(1_500), T0).unwrap();
        codes.insert(2, (), "t", Timestamp::from_millis(5_000), T0).unwrap();
        assert_eq!(
            codes.insert(3, (), "u", Timestamp::from_millis(5_000), T0),
            Err(IssueError::Full { capacity: 2 })
        );
        let later = Timestamp::from_millis(1_600);
        codes.insert(3, (), "u", Timestamp::from_millis(5_000), later).unwrap();
        assert_eq!(codes.take(&2, later), Some(()), "live codes are never evicted");
    }

    #[test]
    fn one_issuer_is_capped_and_the_others_are_not() {
        let codes = OneTimeCodes::new(100, 3);
        for code in 0..3 {
            codes.insert(code, (), "flood", Timestamp::from_millis(2_000 + code), T0).unwrap();
        }
        let refused = codes.insert(3, (), "flood", Timestamp::from_millis(9_000), T0);
        assert_eq!(
            refused,
            Err(IssueError::IssuerFull { limit: 3, retry_after: Duration::from_millis(1_000) }),
            "retry when the oldest expires"
        );
        codes.insert(10, (), "other", Timestamp::from_millis(9_000), T0).unwrap();
        assert_eq!(codes.take(&0, T0), Some(()), "the issuer's codes still work");
        codes.insert(3, (), "flood", Timestamp::from_millis(9_000), T0).expect("a used code frees its place");
        let expired = Timestamp::from_millis(2_001);
        codes.insert(4, (), "flood", Timestamp::from_millis(9_000), expired).expect("so does an expired one");
        assert_eq!(codes.take(&1, expired), None, "the expired code is gone");
    }

    #[test]
    fn codes_can_be_withdrawn_by_their_issuer() {
        let codes = OneTimeCodes::new(10, 10);
        codes.insert("x", 1, "session-1", Timestamp::from_millis(9_000), T0).unwrap();
        codes.insert("y", 2, "session-2", Timestamp::from_millis(9_000), T0).unwrap();
        codes.remove_issued_by(&"session-1");
        assert_eq!(codes.take(&"x", T0), None);
        assert_eq!(codes.take(&"y", T0), Some(2));
    }
}
