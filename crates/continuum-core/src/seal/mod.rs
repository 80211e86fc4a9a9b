//! Sealed sessions: the session itself, encrypted and authenticated, inside the token a client
//! holds, so validating it needs no store.
//!
//! # Layout
//! - [`key_id`]: [`KeyId`], a key's public name (4 bytes derived from it).
//! - [`format`](mod@self::format): the token's prefix, version and part sizes.
//! - [`key`]: [`SealKey`], a key's secret material, and the [`KeyId`] and cipher key HKDF derives
//!   from it.
//! - `material`: the secret material, its HKDF derivation and text form, shared with the data
//!   keys of `at_rest` (each with its own prefix and salt).
//! - [`keyring`]: [`KeyRing`]: the first key seals, every key opens, so keys rotate without
//!   logging anyone out.
//! - [`token`]: the wire format — `cs~` and base64url of version, key id, nonce, ciphertext — and
//!   [`AnyToken`], which tells a sealed token from a `<sid>.<secret>` one.
//! - [`session`]: [`SealedSession`], the payload, and the expiry and epoch rules applied to it.
//! - [`deny`]: [`SealedSession::deny_record`], the stored tombstone that revokes one sealed
//!   session before its expiry.
//! - [`budget`]: the 4 KB cookie budget a sealed token must fit.
//! - [`error`]: [`SealError`] (sealing) and [`OpenError`] (opening).
//!
//! # Main flow
//! [`SealedSession::issue`] builds the payload of a new session with the [`SessionPolicy`]'s
//! rules; [`KeyRing::seal`] encrypts it under the first key and checks the cookie budget. On each
//! request [`AnyToken::parse`] routes a `cs~…` token to [`KeyRing::open`], which refuses anything
//! not sealed by a key of the ring, and [`SealedSession::check`] applies expiry and the
//! principal's epoch. When the policy says a touch is due, the caller seals the touched session
//! again and hands the client the new token (sealed tokens carry their own last-seen time).
//!
//! [`SessionPolicy`]: crate::SessionPolicy

pub mod budget;
pub mod deny;
pub mod error;
pub mod format;
pub mod key;
pub mod key_id;
pub mod keyring;
pub(crate) mod material;
pub mod session;
pub mod token;

pub use budget::{COOKIE_BUDGET, cookie_bytes};
pub use error::{KeyError, OpenError, SealError};
pub use key::{KeyId, SealKey};
pub use keyring::KeyRing;
pub use session::{SealedCheck, SealedSession};
pub use token::{AnyToken, SEALED_PREFIX, TOKEN_VERSION};
