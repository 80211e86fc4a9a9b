//! The sealed token's fixed facts: its prefix, format version and the sizes of its parts (the
//! layout is drawn in [`crate::seal::token`]).

/// What every sealed token starts with.
pub const SEALED_PREFIX: &str = "cs~";
/// The format version this code seals and opens.
pub const TOKEN_VERSION: u8 = 1;
/// Bytes of the header: version and key id.
pub const HEADER_BYTES: usize = 1 + 4;
/// Bytes of the XChaCha20 nonce.
pub const NONCE_BYTES: usize = 24;
/// Bytes of the Poly1305 tag.
pub const TAG_BYTES: usize = 16;
