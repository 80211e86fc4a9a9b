//! [`KeyMaterial`]: 32 bytes of secret key material and what HKDF-SHA256 derives from it under a
//! salt naming its use — the public [`KeyId`] and the XChaCha20-Poly1305 key — with the text
//! form `<prefix><43 base64url characters>`. The sealing keys ([`crate::SealKey`]) and the data
//! keys ([`crate::DataKey`]) are each this with their own prefix and salt, so one material used
//! for both derives unrelated ids and ciphers.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::{KeyInit as _, XChaCha20Poly1305};
use hkdf::Hkdf;
use sha2::Sha256;

use crate::seal::key_id::KeyId;

/// Bytes of secret material in a key.
pub const KEY_BYTES: usize = 32;
/// Base64url characters of the material in the text form.
const ENCODED_CHARS: usize = 43;

const INFO_KEY_ID: &[u8] = b"key id";
const INFO_CIPHER: &[u8] = b"xchacha20poly1305 key";

/// Secret material with its derived id and cipher. `Debug` is left to the wrappers, which show
/// the id only.
#[derive(Clone)]
pub(crate) struct KeyMaterial {
    material: [u8; KEY_BYTES],
    id: KeyId,
    cipher: XChaCha20Poly1305,
}

impl KeyMaterial {
    /// New material from the OS CSPRNG, derived under `salt`.
    pub(crate) fn generate(salt: &[u8]) -> Self {
        let mut material = [0u8; KEY_BYTES];
        getrandom::fill(&mut material).expect("the operating system's random number generator failed");
        Self::derive(material, salt)
    }

    /// `material` with its id and cipher derived under `salt`.
    pub(crate) fn derive(material: [u8; KEY_BYTES], salt: &[u8]) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(salt), &material);
        let mut id = [0u8; 4];
        let mut cipher_key = [0u8; 32];
        // Both lengths are far below HKDF-SHA256's limit of 255 × 32 bytes.
        hkdf.expand(INFO_KEY_ID, &mut id).expect("4 bytes is a valid HKDF length");
        hkdf.expand(INFO_CIPHER, &mut cipher_key).expect("32 bytes is a valid HKDF length");
        let cipher = XChaCha20Poly1305::new(&cipher_key.into());
        Self { material, id: KeyId(id), cipher }
    }

    /// The material of the text form `<prefix><43 base64url characters>` (surrounding blanks
    /// ignored), derived under `salt`; `None` for anything else.
    pub(crate) fn parse(text: &str, prefix: &str, salt: &[u8]) -> Option<Self> {
        let encoded = text.trim().strip_prefix(prefix)?;
        if encoded.len() != ENCODED_CHARS {
            return None;
        }
        let mut material = [0u8; KEY_BYTES];
        match URL_SAFE_NO_PAD.decode_slice(encoded.as_bytes(), &mut material) {
            Ok(KEY_BYTES) => Some(Self::derive(material, salt)),
            _ => None,
        }
    }

    /// The text form with `prefix`, secret material included.
    pub(crate) fn to_secret_text(&self, prefix: &str) -> String {
        format!("{prefix}{}", URL_SAFE_NO_PAD.encode(self.material))
    }

    /// The public id.
    pub(crate) fn id(&self) -> KeyId {
        self.id
    }

    /// Whether `other` has the same material, compared in constant time.
    pub(crate) fn same_material(&self, other: &KeyMaterial) -> bool {
        constant_time_eq::constant_time_eq_n(&self.material, &other.material)
    }

    /// The derived cipher.
    pub(crate) fn cipher(&self) -> &XChaCha20Poly1305 {
        &self.cipher
    }
}

/// Characters of a text form with `prefix`.
pub(crate) const fn text_chars(prefix: &str) -> usize {
    prefix.len() + ENCODED_CHARS
}
