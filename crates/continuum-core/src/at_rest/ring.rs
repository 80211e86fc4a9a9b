//! [`DataKeyRing`]: the data keys of a node. The first key encrypts; every key decrypts, so a
//! new key can be put first while what the previous one encrypted stays readable.
//!
//! ```text
//! magic (4: 00 00 CE 01) | key id (4) | nonce (24) | ciphertext | tag (16)
//! associated data: magic | key id | context (the record's id)
//! ```
//!
//! The magic tells an encrypted blob from bytes written before encryption was turned on. It
//! starts with two zero bytes because a Yjs v1 update (a document's bytes) that starts so is the
//! empty update `00 00` and ends there: no encoder writes more after it, so no plaintext update,
//! snapshot or version state is mistaken for a blob.

use chacha20poly1305::XNonce;
use chacha20poly1305::aead::{Aead as _, Payload};

use crate::at_rest::error::{DataKeyError, DecryptError};
use crate::at_rest::key::DataKey;
use crate::seal::key_id::KeyId;

/// The first bytes of every encrypted blob; the last byte is the format version.
pub const MAGIC: [u8; 4] = [0x00, 0x00, 0xCE, 0x01];
/// Bytes of the key id.
const KEY_ID_BYTES: usize = 4;
/// Bytes of the nonce: XChaCha20's 192 bits make random nonces safe without a counter.
const NONCE_BYTES: usize = 24;
/// Bytes of the Poly1305 tag.
const TAG_BYTES: usize = 16;
/// The header: magic and key id.
const HEADER_BYTES: usize = MAGIC.len() + KEY_ID_BYTES;

/// Whether `bytes` are an encrypted blob (they start with [`MAGIC`]) rather than plaintext
/// written before encryption was turned on.
pub fn is_encrypted(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// The data keys a node encrypts and decrypts with.
#[derive(Clone, Debug)]
pub struct DataKeyRing {
    /// Never empty; the first encrypts. A handful of keys: a linear search by id is cheapest.
    keys: Vec<DataKey>,
}

impl DataKeyRing {
    /// A ring of `keys`, the first encrypting. Refuses an empty list and two keys with one id.
    pub fn new(keys: Vec<DataKey>) -> Result<Self, DataKeyError> {
        if keys.is_empty() {
            return Err(DataKeyError::Empty);
        }
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].iter().any(|earlier| earlier.id() == key.id()) {
                return Err(DataKeyError::DuplicateId(key.id()));
            }
        }
        Ok(Self { keys })
    }

    /// Parses the text form of each key (see [`DataKey::parse`]) into a ring.
    pub fn parse<S: AsRef<str>>(texts: &[S]) -> Result<Self, DataKeyError> {
        Self::new(texts.iter().map(|text| DataKey::parse(text.as_ref())).collect::<Result<_, _>>()?)
    }

    /// The ids of every key, the encrypting one first.
    pub fn ids(&self) -> Vec<KeyId> {
        self.keys.iter().map(DataKey::id).collect()
    }

    /// `plaintext` encrypted under the first key with a fresh random nonce, bound to `context`
    /// (the record's id): [`DataKeyRing::decrypt`] opens it only with the same context.
    pub fn encrypt(&self, context: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).expect("the operating system's random number generator failed");
        let key = &self.keys[0];
        let mut blob = Vec::with_capacity(HEADER_BYTES + NONCE_BYTES + plaintext.len() + TAG_BYTES);
        blob.extend_from_slice(&MAGIC);
        blob.extend_from_slice(&key.id().0);
        let aad = associated_data(&blob[..HEADER_BYTES], context);
        let ciphertext = key
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
            // XChaCha20-Poly1305 refuses only messages past 256 GiB; stores never hold one.
            .expect("a record fits XChaCha20-Poly1305's length limit");
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&ciphertext);
        blob
    }

    /// The plaintext of `blob`, if a key of this ring encrypted it for exactly this `context`.
    /// `blob` must be encrypted ([`is_encrypted`]); plaintext is the caller's case.
    pub fn decrypt(&self, context: &[u8], blob: &[u8]) -> Result<Vec<u8>, DecryptError> {
        if blob.len() < HEADER_BYTES + NONCE_BYTES + TAG_BYTES || !is_encrypted(blob) {
            return Err(DecryptError::Truncated);
        }
        let (header, rest) = blob.split_at(HEADER_BYTES);
        let (nonce, ciphertext) = rest.split_at(NONCE_BYTES);
        let id = KeyId(header[MAGIC.len()..].try_into().expect("four bytes of key id"));
        let key = self.keys.iter().find(|key| key.id() == id).ok_or(DecryptError::UnknownKey(id))?;
        let aad = associated_data(header, context);
        // The tag is checked in constant time before any plaintext is released.
        key.cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
            .map_err(|_| DecryptError::Forged)
    }
}

fn associated_data(header: &[u8], context: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header.len() + context.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(context);
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_opens_with_its_context_and_its_ring_only() {
        let ring = DataKeyRing::new(vec![DataKey::generate()]).unwrap();
        let blob = ring.encrypt(b"session/abc", b"secret text");
        assert!(is_encrypted(&blob));
        assert!(!blob.windows(6).any(|w| w == b"secret"), "no plaintext in the blob");
        assert_eq!(ring.decrypt(b"session/abc", &blob).unwrap(), b"secret text");
        assert_eq!(ring.decrypt(b"session/abd", &blob).unwrap_err(), DecryptError::Forged);
        let other = DataKeyRing::new(vec![DataKey::generate()]).unwrap();
        assert!(matches!(other.decrypt(b"session/abc", &blob), Err(DecryptError::UnknownKey(_))));
        assert_ne!(ring.encrypt(b"c", b"same"), ring.encrypt(b"c", b"same"), "a fresh nonce each time");
    }

    #[test]
    fn every_flipped_bit_and_every_truncation_is_refused() {
        let ring = DataKeyRing::new(vec![DataKey::generate()]).unwrap();
        let blob = ring.encrypt(b"ctx", b"attributes");
        for i in 0..blob.len() * 8 {
            let mut bad = blob.clone();
            bad[i / 8] ^= 1 << (i % 8);
            assert!(ring.decrypt(b"ctx", &bad).is_err(), "bit {i}");
        }
        for len in 0..blob.len() {
            assert!(ring.decrypt(b"ctx", &blob[..len]).is_err(), "length {len}");
        }
    }

    #[test]
    fn the_first_key_encrypts_and_every_key_decrypts() {
        let (old, new) = (DataKey::generate(), DataKey::generate());
        let before = DataKeyRing::new(vec![old.clone()]).unwrap().encrypt(b"c", b"old");
        let rotated = DataKeyRing::new(vec![new.clone(), old.clone()]).unwrap();
        assert_eq!(rotated.decrypt(b"c", &before).unwrap(), b"old");
        let after = rotated.encrypt(b"c", b"new");
        assert_eq!(&after[4..8], &new.id().0, "the blob names the key that encrypted it");
        assert_eq!(rotated.ids(), vec![new.id(), old.id()]);
        assert_eq!(DataKeyRing::new(vec![]).unwrap_err(), DataKeyError::Empty);
        assert_eq!(
            DataKeyRing::new(vec![old.clone(), old.clone()]).unwrap_err(),
            DataKeyError::DuplicateId(old.id())
        );
    }

    #[test]
    fn plaintext_documents_are_never_taken_for_blobs() {
        // The empty Yjs update, and updates that start with a struct count.
        for plain in [&[0u8, 0][..], &[1, 2, 3][..], &[0, 1, 5][..], b""] {
            assert!(!is_encrypted(plain), "{plain:?}");
        }
    }
}
