//! [`IssuedCodes`]: which node issued each live one-time code (handoff codes, sync tickets),
//! learnt from the issuing answers, so a redemption reaches the only node that can honour it.
//! Pure: the caller passes the time in.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::route::OneTimeKey;

/// How long a code is remembered: the longest a code lives (a handoff code's two minutes; a
/// ticket lives 30 s, and remembering it longer only costs its entry).
pub const REMEMBER_FOR: Duration = continuum_core::handoff::CODE_TTL;

/// Codes mapped to the node index that issued them, until they expire.
///
/// Bounded: at most `capacity` entries. When full, expired entries are dropped; if it is still
/// full the new code is not remembered (its redemption then goes to the fallback node and
/// fails there with the node's 404), and no remembered code is evicted.
#[derive(Debug)]
pub struct IssuedCodes {
    codes: HashMap<OneTimeKey, (usize, Instant)>,
    capacity: usize,
}

impl IssuedCodes {
    /// An empty table of at most `capacity` codes.
    pub fn new(capacity: usize) -> Self {
        Self { codes: HashMap::new(), capacity }
    }

    /// Remembers that `node` issued `code` at `now`; false when the table is full.
    pub fn remember(&mut self, code: OneTimeKey, node: usize, now: Instant) -> bool {
        if self.codes.len() >= self.capacity {
            self.codes.retain(|_, (_, expires)| *expires > now);
        }
        if self.codes.len() >= self.capacity {
            return false;
        }
        self.codes.insert(code, (node, now + REMEMBER_FOR));
        true
    }

    /// The node that issued `code`, if remembered and not expired.
    pub fn issuer(&self, code: &OneTimeKey, now: Instant) -> Option<usize> {
        self.codes.get(code).filter(|(_, expires)| *expires > now).map(|(node, _)| *node)
    }

    /// Forgets `code` (it was redeemed: single use).
    pub fn forget(&mut self, code: &OneTimeKey) {
        self.codes.remove(code);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> OneTimeKey {
        OneTimeKey::Handoff(text.to_owned())
    }

    #[test]
    fn codes_are_remembered_until_they_expire() {
        let now = Instant::now();
        let mut codes = IssuedCodes::new(10);
        assert!(codes.remember(code("A"), 2, now));
        assert_eq!(codes.issuer(&code("A"), now + Duration::from_secs(119)), Some(2));
        assert_eq!(codes.issuer(&code("A"), now + REMEMBER_FOR), None);
        assert_eq!(codes.issuer(&OneTimeKey::Ticket("A".into()), now), None, "kinds do not mix");
        codes.forget(&code("A"));
        assert_eq!(codes.issuer(&code("A"), now), None);
    }

    #[test]
    fn a_full_table_drops_expired_codes_then_refuses_new_ones() {
        let now = Instant::now();
        let mut codes = IssuedCodes::new(2);
        assert!(codes.remember(code("A"), 0, now));
        assert!(codes.remember(code("B"), 1, now + Duration::from_secs(60)));
        assert!(!codes.remember(code("C"), 0, now + Duration::from_secs(61)));
        assert_eq!(codes.issuer(&code("A"), now + Duration::from_secs(61)), Some(0), "never evicted");
        let later = now + REMEMBER_FOR + Duration::from_secs(1);
        assert!(codes.remember(code("C"), 0, later), "A expired and made room");
        assert_eq!(codes.issuer(&code("B"), later), Some(1));
    }
}
