//! [`DataKey`]: one data key's secret material, and what HKDF-SHA256 derives from it: the public
//! [`KeyId`] named in every blob it encrypts, and the XChaCha20-Poly1305 key.
//!
//! The derivation has its own salt, so a key copied by mistake between the sealing key file and
//! the data key file derives unrelated ids and ciphers in its two uses.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::{KeyInit as _, XChaCha20Poly1305};
use hkdf::Hkdf;
use sha2::Sha256;

use crate::at_rest::error::DataKeyError;
use crate::seal::key_id::KeyId;

/// Bytes of secret material in a key.
pub const KEY_BYTES: usize = 32;
/// The text form's prefix.
pub const KEY_PREFIX: &str = "dk_";
/// Characters of the text form: the prefix and 43 base64url characters.
pub const KEY_CHARS: usize = KEY_PREFIX.len() + 43;

/// HKDF salt: names the scheme (and sets it apart from the sealing keys' salt).
const HKDF_SALT: &[u8] = b"continuum data at rest v1";
const INFO_KEY_ID: &[u8] = b"key id";
const INFO_CIPHER: &[u8] = b"xchacha20poly1305 key";

/// One data key: 32 bytes of secret material and the cipher derived from it.
///
/// `Debug` shows only the id; the material leaves the value only through
/// [`DataKey::to_secret_text`], for writing a key file.
#[derive(Clone)]
pub struct DataKey {
    material: [u8; KEY_BYTES],
    id: KeyId,
    cipher: XChaCha20Poly1305,
}

impl DataKey {
    /// A new key from the OS CSPRNG.
    pub fn generate() -> Self {
        let mut material = [0u8; KEY_BYTES];
        getrandom::fill(&mut material).expect("the operating system's random number generator failed");
        Self::from_material(material)
    }

    /// The key with this secret material.
    pub fn from_material(material: [u8; KEY_BYTES]) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(HKDF_SALT), &material);
        let mut id = [0u8; 4];
        let mut cipher_key = [0u8; 32];
        // Both lengths are far below HKDF-SHA256's limit of 255 × 32 bytes.
        hkdf.expand(INFO_KEY_ID, &mut id).expect("4 bytes is a valid HKDF length");
        hkdf.expand(INFO_CIPHER, &mut cipher_key).expect("32 bytes is a valid HKDF length");
        let cipher = XChaCha20Poly1305::new(&cipher_key.into());
        Self { material, id: KeyId(id), cipher }
    }

    /// Parses the text form `dk_<43 base64url characters>` (surrounding blanks ignored).
    pub fn parse(text: &str) -> Result<Self, DataKeyError> {
        let encoded = text.trim().strip_prefix(KEY_PREFIX).ok_or(DataKeyError::Format)?;
        if encoded.len() != KEY_CHARS - KEY_PREFIX.len() {
            return Err(DataKeyError::Format);
        }
        let mut material = [0u8; KEY_BYTES];
        match URL_SAFE_NO_PAD.decode_slice(encoded.as_bytes(), &mut material) {
            Ok(KEY_BYTES) => Ok(Self::from_material(material)),
            _ => Err(DataKeyError::Format),
        }
    }

    /// The text form, secret material included: only for writing it where it is kept.
    pub fn to_secret_text(&self) -> String {
        format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(self.material))
    }

    /// The key's public id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    pub(crate) fn cipher(&self) -> &XChaCha20Poly1305 {
        &self.cipher
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey({}, <redacted>)", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SealKey;

    #[test]
    fn text_form_round_trips_and_never_prints_in_debug() {
        let key = DataKey::generate();
        let text = key.to_secret_text();
        assert_eq!(text.len(), KEY_CHARS);
        assert_eq!(DataKey::parse(&format!(" {text}\n")).unwrap().id(), key.id());
        assert!(!format!("{key:?}").contains(&text[3..]));
        for bad in ["", "dk_", &text[3..], &format!("{text}A"), &format!("sk_{}", &text[3..])] {
            assert_eq!(DataKey::parse(bad).unwrap_err(), DataKeyError::Format, "{bad:?}");
        }
    }

    #[test]
    fn the_same_material_derives_another_id_than_as_a_sealing_key() {
        let material = [7; KEY_BYTES];
        assert_ne!(DataKey::from_material(material).id(), SealKey::from_material(material).id());
        assert_eq!(DataKey::from_material(material).id(), DataKey::from_material(material).id());
    }
}
