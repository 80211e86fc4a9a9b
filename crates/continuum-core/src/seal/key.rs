//! [`SealKey`]: one sealing key's secret material, and what HKDF-SHA256 derives from it: the
//! public [`KeyId`] written into every token it seals, and the XChaCha20-Poly1305 key.
//!
//! The id is derived rather than chosen, so nodes configured with the same key agree on its id
//! without configuring one, and an id never names two different keys by mistake of an operator.

use std::fmt;

use chacha20poly1305::XChaCha20Poly1305;

use crate::seal::error::KeyError;
pub use crate::seal::key_id::KeyId;
pub use crate::seal::material::KEY_BYTES;
use crate::seal::material::{KeyMaterial, text_chars};

/// The text form's prefix.
pub const KEY_PREFIX: &str = "sk_";
/// Characters of the text form: the prefix and 43 base64url characters.
pub const KEY_CHARS: usize = text_chars(KEY_PREFIX);

/// HKDF salt: names the scheme, so the same material used elsewhere derives unrelated keys.
const HKDF_SALT: &[u8] = b"continuum sealed session v1";

/// One sealing key: 32 bytes of secret material and the cipher derived from it.
///
/// `Debug` shows only the id; the material leaves the value only through
/// [`SealKey::to_secret_text`], for writing a key file.
#[derive(Clone)]
pub struct SealKey(KeyMaterial);

impl SealKey {
    /// A new key from the OS CSPRNG.
    pub fn generate() -> Self {
        Self(KeyMaterial::generate(HKDF_SALT))
    }

    /// The key with this secret material.
    pub fn from_material(material: [u8; KEY_BYTES]) -> Self {
        Self(KeyMaterial::derive(material, HKDF_SALT))
    }

    /// Parses the text form `sk_<43 base64url characters>` (surrounding blanks ignored).
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        KeyMaterial::parse(text, KEY_PREFIX, HKDF_SALT).map(Self).ok_or(KeyError::Format)
    }

    /// The text form, secret material included: only for writing it where it is kept.
    pub fn to_secret_text(&self) -> String {
        self.0.to_secret_text(KEY_PREFIX)
    }

    /// The key's public id.
    pub fn id(&self) -> KeyId {
        self.0.id()
    }

    /// Whether `other` has the same material, compared in constant time.
    pub fn same_material(&self, other: &SealKey) -> bool {
        self.0.same_material(&other.0)
    }

    pub(crate) fn cipher(&self) -> &XChaCha20Poly1305 {
        self.0.cipher()
    }
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealKey({}, <redacted>)", self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips_and_the_id_follows_the_material() {
        let key = SealKey::generate();
        let text = key.to_secret_text();
        assert_eq!(text.len(), KEY_CHARS);
        let parsed = SealKey::parse(&format!(" {text}\n")).unwrap();
        assert_eq!(parsed.id(), key.id());
        assert!(parsed.same_material(&key));
        assert_ne!(SealKey::generate().id(), key.id());
    }

    #[test]
    fn derivation_is_fixed() {
        // Pinned so that a change of salt, info or encoding (which would log out every user of
        // every deployment) cannot pass unnoticed.
        let key = SealKey::from_material([7; KEY_BYTES]);
        assert_eq!(key.id(), SealKey::from_material([7; KEY_BYTES]).id());
        assert_eq!(key.id().to_string().len(), 8);
        assert_eq!(key.id().to_string(), PINNED_ID_OF_SEVENS);
    }

    // Computed independently with Python: HMAC-SHA256 extract and expand per RFC 5869.
    const PINNED_ID_OF_SEVENS: &str = "cde480ae";

    #[test]
    fn malformed_keys_are_refused() {
        let good = SealKey::generate().to_secret_text();
        for bad in [
            "",
            "sk_",
            &good[3..],
            &format!("{good}A"),
            &good[..good.len() - 1],
            &format!("ck_{}", &good[3..]),
            &format!("sk_{}+", &good[3..good.len() - 1]),
        ] {
            assert_eq!(SealKey::parse(bad).unwrap_err(), KeyError::Format, "{bad:?}");
        }
    }

    #[test]
    fn debug_never_shows_the_material() {
        let key = SealKey::generate();
        let text = key.to_secret_text();
        assert!(!format!("{key:?}").contains(&text[3..]));
    }
}
