//! Encryption at rest as a decorator over any store: [`EncryptedSessions`] seals a session's
//! attributes and device (label, user agent) and [`EncryptedDocs`] a document's updates,
//! snapshot and version states, under a [`DataKeyRing`], before the inner store sees them.
//!
//! What stays plaintext, because stores index or compare it: a session's id, principal, secret
//! digests, times, version and status; a document's scope, name, sequence numbers and version
//! names. Each blob is bound to its record (the sid; the document's key and what the bytes are),
//! so one moved to another record fails to decrypt.
//!
//! Records written before encryption was turned on are read as they are and written encrypted
//! the next time they change: a session whose attributes are not the single [`MARKER`] entry,
//! document bytes that do not start with [`continuum_core::at_rest::MAGIC`].
//!
//! # Layout
//! - [`sessions`]: [`EncryptedSessions`], a [`crate::SessionStore`] over another.
//! - [`docs`]: [`EncryptedDocs`], a [`crate::DocStore`] over another.
//! - [`error`]: [`AtRestError`], why a stored record could not be decrypted.
//!
//! [`DataKeyRing`]: continuum_core::DataKeyRing

pub mod docs;
pub mod error;
pub mod sessions;

pub use docs::EncryptedDocs;
pub use error::AtRestError;
pub use sessions::{EncryptedSessions, MARKER};
