//! [`DataKey`]: one data key's secret material, and what HKDF-SHA256 derives from it: the public
//! [`KeyId`] named in every blob it encrypts, and the XChaCha20-Poly1305 key.
//!
//! The derivation has its own salt, so a key copied by mistake between the sealing key file and
//! the data key file derives unrelated ids and ciphers in its two uses.

use std::fmt;

use chacha20poly1305::XChaCha20Poly1305;

use crate::at_rest::error::DataKeyError;
use crate::seal::key_id::KeyId;
pub use crate::seal::material::KEY_BYTES;
use crate::seal::material::{KeyMaterial, text_chars};

/// The text form's prefix.
pub const KEY_PREFIX: &str = "dk_";
/// Characters of the text form: the prefix and 43 base64url characters.
pub const KEY_CHARS: usize = text_chars(KEY_PREFIX);

/// HKDF salt: names the scheme (and sets it apart from the sealing keys' salt).
const HKDF_SALT: &[u8] = b"continuum data at rest v1";

/// One data key: 32 bytes of secret material and the cipher derived from it.
///
/// `Debug` shows only the id; the material leaves the value only through
/// [`DataKey::to_secret_text`], for writing a key file.
#[derive(Clone)]
pub struct DataKey(KeyMaterial);

impl DataKey {
    /// A new key from the OS CSPRNG.
    pub fn generate() -> Self {
        Self(KeyMaterial::generate(HKDF_SALT))
    }

    /// The key with this secret material.
    pub fn from_material(material: [u8; KEY_BYTES]) -> Self {
        Self(KeyMaterial::derive(material, HKDF_SALT))
    }

    /// Parses the text form `dk_<43 base64url characters>` (surrounding blanks ignored).
    pub fn parse(text: &str) -> Result<Self, DataKeyError> {
        KeyMaterial::parse(text, KEY_PREFIX, HKDF_SALT).map(Self).ok_or(DataKeyError::Format)
    }

    /// The text form, secret material included: only for writing it where it is kept.
    pub fn to_secret_text(&self) -> String {
        self.0.to_secret_text(KEY_PREFIX)
    }

    /// The key's public id.
    pub fn id(&self) -> KeyId {
        self.0.id()
    }

    pub(crate) fn cipher(&self) -> &XChaCha20Poly1305 {
        self.0.cipher()
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey({}, <redacted>)", self.id())
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
