//! [`HandoffCode`]: the short code a signed-in device shows so that another device can continue
//! as the same user — 8 characters from an alphabet without look-alikes.

use std::fmt;
use std::time::Duration;

/// Characters of a code: digits and capitals without `0 O 1 I`, 32 of them, so one random byte
/// modulo 32 picks one without bias.
pub const ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/// Characters in a code: 40 bits, guessed only by chance within its lifetime and rate limits.
pub const CODE_LEN: usize = 8;
/// How long a code can be redeemed.
pub const CODE_TTL: Duration = Duration::from_secs(120);

/// Why text is not a handoff code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandoffCodeError {
    /// Wrong number of characters (after removing spaces and dashes).
    #[error("a handoff code has {CODE_LEN} characters")]
    Length,
    /// A character outside the alphabet.
    #[error("a handoff code uses only 2-9 and A-Z without I and O")]
    Character,
}

/// A handoff code, normalized to capitals.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HandoffCode(String);

impl HandoffCode {
    /// A new code from the OS CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = [0u8; CODE_LEN];
        getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
        Self(bytes.iter().map(|b| ALPHABET[usize::from(b % 32)] as char).collect())
    }

    /// Parses what a person typed: case is ignored, spaces and dashes are dropped.
    pub fn parse(text: &str) -> Result<Self, HandoffCodeError> {
        let code: String =
            text.chars().filter(|c| !matches!(c, ' ' | '-')).map(|c| c.to_ascii_uppercase()).collect();
        if code.chars().count() != CODE_LEN {
            return Err(HandoffCodeError::Length);
        }
        if !code.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(HandoffCodeError::Character);
        }
        Ok(Self(code))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HandoffCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for HandoffCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A code is a bearer credential for two minutes: keep it out of logs.
        f.write_str("HandoffCode(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_use_the_alphabet_and_parse_back() {
        for _ in 0..200 {
            let code = HandoffCode::generate();
            assert_eq!(code.as_str().len(), CODE_LEN);
            assert!(code.as_str().bytes().all(|b| ALPHABET.contains(&b)));
            assert_eq!(HandoffCode::parse(code.as_str()).unwrap(), code);
        }
    }

    #[test]
    fn parsing_forgives_case_spaces_and_dashes_only() {
        assert_eq!(HandoffCode::parse("abcd-efgh").unwrap().as_str(), "ABCDEFGH");
        assert_eq!(HandoffCode::parse(" 2345 6789 ").unwrap().as_str(), "23456789");
        assert_eq!(HandoffCode::parse("ABCDEFG"), Err(HandoffCodeError::Length));
        assert_eq!(HandoffCode::parse("ABCDEFGHJ"), Err(HandoffCodeError::Length));
        for bad in ["ABCDEFG0", "ABCDEFGO", "ABCDEFG1", "ABCDEFGI", "ABCDEFG!"] {
            assert_eq!(HandoffCode::parse(bad), Err(HandoffCodeError::Character), "{bad}");
        }
    }

    #[test]
    fn codes_never_print_in_debug() {
        assert!(!format!("{:?}", HandoffCode::parse("ABCDEFGH").unwrap()).contains("ABCD"));
    }
}
