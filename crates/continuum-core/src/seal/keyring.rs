//! [`KeyRing`]: the sealing keys of a deployment. The first key seals; every key opens, so a new
//! key can be put first while tokens sealed under the previous one keep working until that key
//! is removed from the ring.
//!
//! Rotation across several nodes: add the new key *second* on every node (it opens, it does not
//! seal), then move it first everywhere; only when every node seals with it and the old tokens
//! have been re-sealed or expired, remove the old key. A token sealed under a key that left the
//! ring is refused with [`OpenError::UnknownKey`].

use chacha20poly1305::XNonce;
use chacha20poly1305::aead::{Aead as _, Payload};

use crate::seal::budget::{COOKIE_BUDGET, cookie_bytes};
use crate::seal::error::{KeyError, OpenError, SealError};
use crate::seal::key::{KeyId, SealKey};
use crate::seal::session::SealedSession;
use crate::seal::token::{self, NONCE_BYTES, TOKEN_VERSION};

/// The keys a node seals and opens with.
#[derive(Clone, Debug)]
pub struct KeyRing {
    /// Never empty; the first seals. A ring holds a handful of keys, so a linear search by id
    /// costs less than a map.
    keys: Vec<SealKey>,
}

impl KeyRing {
    /// A ring of `keys`, the first sealing. Refuses an empty list and two keys with one id.
    pub fn new(keys: Vec<SealKey>) -> Result<Self, KeyError> {
        if keys.is_empty() {
            return Err(KeyError::Empty);
        }
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].iter().any(|earlier| earlier.id() == key.id()) {
                return Err(KeyError::DuplicateId(key.id()));
            }
        }
        Ok(Self { keys })
    }

    /// Parses the text form of each key (see [`SealKey::parse`]) into a ring.
    pub fn parse<S: AsRef<str>>(texts: &[S]) -> Result<Self, KeyError> {
        Self::new(texts.iter().map(|text| SealKey::parse(text.as_ref())).collect::<Result<_, _>>()?)
    }

    /// The key that seals.
    pub fn sealing_key(&self) -> &SealKey {
        &self.keys[0]
    }

    /// The ids of every key, the sealing one first.
    pub fn ids(&self) -> Vec<KeyId> {
        self.keys.iter().map(SealKey::id).collect()
    }

    /// Seals `session` under the first key with a fresh random nonce, refusing a token whose
    /// cookie `cookie_name=token` would pass [`COOKIE_BUDGET`].
    pub fn seal(&self, session: &SealedSession, cookie_name: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).expect("the operating system's random number generator failed");
        self.seal_with_nonce(session, &nonce, cookie_name)
    }

    /// [`KeyRing::seal`] with a given nonce. A nonce must never repeat under one key: outside
    /// tests, use [`KeyRing::seal`] (24 random bytes make a repeat negligible).
    pub fn seal_with_nonce(
        &self,
        session: &SealedSession,
        nonce: &[u8; NONCE_BYTES],
        cookie_name: &str,
    ) -> Result<String, SealError> {
        let key = self.sealing_key();
        let header = token::header(key.id());
        let plaintext = serde_json::to_vec(session).map_err(SealError::Encode)?;
        let ciphertext = key
            .cipher()
            .encrypt(XNonce::from_slice(nonce), Payload { msg: &plaintext, aad: &header })
            .map_err(|_| SealError::Encrypt)?;
        let mut bytes = Vec::with_capacity(header.len() + nonce.len() + ciphertext.len());
        bytes.extend_from_slice(&header);
        bytes.extend_from_slice(nonce);
        bytes.extend_from_slice(&ciphertext);
        let text = token::encode(&bytes);
        let size = cookie_bytes(cookie_name, &text);
        if size > COOKIE_BUDGET {
            return Err(SealError::CookieTooLarge { bytes: size, budget: COOKIE_BUDGET });
        }
        Ok(text)
    }

    /// Opens a sealed token: the session inside, if a key of this ring sealed exactly this text.
    /// Checks nothing about the session itself (see [`SealedSession::check`]).
    pub fn open(&self, text: &str) -> Result<SealedSession, OpenError> {
        let bytes = token::decode(text)?;
        let parts = token::split(&bytes)?;
        if parts.version != TOKEN_VERSION {
            return Err(OpenError::UnsupportedVersion(parts.version));
        }
        let key = self
            .keys
            .iter()
            .find(|key| key.id() == parts.key_id)
            .ok_or(OpenError::UnknownKey(parts.key_id))?;
        // The tag is checked in constant time by the cipher before any plaintext is released.
        let plaintext = key
            .cipher()
            .decrypt(XNonce::from_slice(parts.nonce), Payload { msg: parts.ciphertext, aad: parts.header })
            .map_err(|_| OpenError::Forged)?;
        serde_json::from_slice(&plaintext).map_err(OpenError::Payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_needs_keys_with_distinct_ids() {
        assert_eq!(KeyRing::new(Vec::new()).unwrap_err(), KeyError::Empty);
        let key = SealKey::generate();
        let twice = KeyRing::new(vec![key.clone(), SealKey::generate(), key.clone()]).unwrap_err();
        assert_eq!(twice, KeyError::DuplicateId(key.id()));
        let text = key.to_secret_text();
        let ring = KeyRing::parse(&[text.as_str()]).unwrap();
        assert_eq!(ring.ids(), vec![key.id()]);
        assert_eq!(KeyRing::parse(&["sk_short"]).unwrap_err(), KeyError::Format);
    }
}
