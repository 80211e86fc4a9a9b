//! Encryption at rest: what a store keeps of a session's personal data and of a document's
//! content, sealed with XChaCha20-Poly1305 under a [`DataKeyRing`] before it reaches the store.
//!
//! # Layout
//! - [`key`]: [`DataKey`], a data key's secret material (`dk_…`) and the [`KeyId`] and cipher
//!   key HKDF derives from it (salt apart from the sealing keys').
//! - [`ring`]: [`DataKeyRing`]: the first key encrypts, every key decrypts; the blob format
//!   (magic, key id, nonce, ciphertext and tag) and [`is_encrypted`].
//! - [`error`]: [`DataKeyError`] (keys) and [`DecryptError`] (opening a blob).
//!
//! # Main flow
//! A store decorator calls [`DataKeyRing::encrypt`] with the record's id as `context` (a
//! session's sid, a document's key and what the bytes are) on the way in, and
//! [`DataKeyRing::decrypt`] with the same context on the way out. The context is associated
//! data: a blob moved to another record fails authentication. Bytes that do not start with the
//! magic ([`is_encrypted`] false) were written before encryption was turned on and are read as
//! they are.
//!
//! [`KeyId`]: crate::KeyId

pub mod error;
pub mod key;
pub mod ring;

pub use error::{DataKeyError, DecryptError};
pub use key::DataKey;
pub use ring::{DataKeyRing, MAGIC, is_encrypted};
