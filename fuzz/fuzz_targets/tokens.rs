//! Token and cookie parsing on arbitrary input: a `Cookie` header read for the session cookie,
//! the value routed by `AnyToken::parse`, stored tokens parsed strictly, sealed ones opened by a
//! key ring, sealing keys parsed. Nothing may panic; a stored token parses only if it prints back
//! as the same text; nothing opens that this ring did not seal (the input cannot hold a forgery
//! of a random key); arbitrary bytes behind the `cs~` prefix never open either.

#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use continuum_core::cookie::find_cookie;
use continuum_core::seal::{AnyToken, KeyRing, SealKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ring = KeyRing::new(vec![SealKey::from_material([42; 32])]).expect("one key");
    let text = String::from_utf8_lossy(data);
    for candidate in
        [Some(text.as_ref()), find_cookie(&text, "__Host-continuum"), find_cookie(&text, "continuum")]
            .into_iter()
            .flatten()
    {
        match AnyToken::parse(candidate) {
            Ok(AnyToken::Stored(token)) => assert_eq!(token.to_string(), candidate),
            Ok(AnyToken::Sealed(sealed)) => {
                assert!(ring.open(sealed).is_err(), "opened a token nobody sealed: {sealed:?}");
            }
            Err(_) => {}
        }
        let _ = SealKey::parse(candidate);
    }
    // The raw bytes as a token's body: header, nonce and ciphertext all chosen by the input.
    let raw = format!("cs~{}", URL_SAFE_NO_PAD.encode(data));
    assert!(ring.open(&raw).is_err(), "arbitrary bytes opened");
});
