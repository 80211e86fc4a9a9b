//! Sealing and opening, as properties: a sealed session round-trips; every alteration of a
//! token — a flipped bit, a cut, an extra byte, another key id or version, a swap between
//! sessions or keys — is refused; a key that leaves the ring takes its tokens with it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use continuum_core::seal::token::{HEADER_BYTES, SEALED_PREFIX};
use continuum_core::seal::{COOKIE_BUDGET, KeyId, KeyRing, OpenError, SealError, SealKey, SealedSession};
use continuum_core::{Device, NewSession, Principal, SessionPolicy, Timestamp};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const COOKIE: &str = "__Host-continuum";
const NOW: Timestamp = Timestamp::from_millis(1_800_000_000_000);

fn session(
    principal: &str,
    label: Option<String>,
    attributes: Map<String, Value>,
    epoch: u64,
) -> SealedSession {
    let ask = NewSession {
        principal: Some(Principal::parse(principal).expect("principal")),
        device: Device { label, user_agent: None },
        attributes,
        ..NewSession::default()
    };
    SealedSession::issue(&SessionPolicy::default(), ask, epoch, NOW).expect("issue")
}

fn bytes_of(token: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(&token[SEALED_PREFIX.len()..]).expect("a sealed token is base64url")
}

fn token_of(bytes: &[u8]) -> String {
    format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn ring(keys: &[&SealKey]) -> KeyRing {
    KeyRing::new(keys.iter().map(|key| (*key).clone()).collect()).expect("ring")
}

fn attributes() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(
        "[a-z]{1,8}",
        prop_oneof![
            any::<i64>().prop_map(Value::from),
            "\\PC{0,40}".prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
        ],
        0..6,
    )
    .prop_map(|map| map.into_iter().collect())
}

fn sessions() -> impl Strategy<Value = SealedSession> {
    ("[a-z][a-z0-9:@.]{0,30}", prop::option::of("\\PC{1,30}"), attributes(), any::<u64>())
        .prop_map(|(principal, label, attributes, epoch)| session(&principal, label, attributes, epoch))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn sealing_round_trips(s in sessions()) {
        let key = SealKey::generate();
        let ring = ring(&[&key]);
        let token = ring.seal(&s, COOKIE).expect("seal");
        prop_assert!(token.starts_with(SEALED_PREFIX));
        prop_assert!(!token.contains('.'));
        prop_assert_eq!(ring.open(&token).expect("open"), s.clone());
        // Two seals of one session differ (fresh nonce) and both open.
        let again = ring.seal(&s, COOKIE).expect("seal");
        prop_assert_ne!(&again, &token);
        prop_assert_eq!(ring.open(&again).expect("open"), s);
    }

    #[test]
    fn any_single_bit_flip_is_refused(s in sessions(), bit in any::<prop::sample::Index>()) {
        let ring = ring(&[&SealKey::generate()]);
        let mut bytes = bytes_of(&ring.seal(&s, COOKIE).expect("seal"));
        let bit = bit.index(bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(ring.open(&token_of(&bytes)).is_err(), "bit {} flipped", bit);
    }

    #[test]
    fn any_flipped_character_is_refused(s in sessions(), at in any::<prop::sample::Index>(), c in "[A-Za-z0-9_~.=+/-]") {
        let ring = ring(&[&SealKey::generate()]);
        let token = ring.seal(&s, COOKIE).expect("seal");
        let mut chars: Vec<char> = token.chars().collect();
        let i = at.index(chars.len());
        let replacement = c.chars().next().expect("one char");
        prop_assume!(chars[i] != replacement);
        chars[i] = replacement;
        let changed: String = chars.into_iter().collect();
        prop_assert!(ring.open(&changed).is_err(), "{} changed at {}", token, i);
    }

    #[test]
    fn truncation_and_appended_bytes_are_refused(s in sessions(), cut in any::<prop::sample::Index>(), extra in prop::collection::vec(any::<u8>(), 1..8)) {
        let ring = ring(&[&SealKey::generate()]);
        let token = ring.seal(&s, COOKIE).expect("seal");
        let bytes = bytes_of(&token);
        let cut = cut.index(bytes.len());
        prop_assert!(ring.open(&token_of(&bytes[..cut])).is_err(), "cut at byte {}", cut);
        let cut_text = cut.min(token.len() - 1);
        prop_assert!(ring.open(&token[..cut_text]).is_err(), "cut at char {}", cut_text);
        let mut longer = bytes.clone();
        longer.extend(&extra);
        prop_assert!(ring.open(&token_of(&longer)).is_err());
        let appended = format!("{token}{}", URL_SAFE_NO_PAD.encode(&extra));
        prop_assert!(ring.open(&appended).is_err());
    }

    #[test]
    fn another_key_id_or_version_is_refused(s in sessions(), id in any::<[u8; 4]>(), version in any::<u8>()) {
        let key = SealKey::generate();
        let other = SealKey::generate();
        let ring = ring(&[&key, &other]);
        let bytes = bytes_of(&ring.seal(&s, COOKIE).expect("seal"));
        // An id of the ring's other key: found, but that key did not seal it.
        let mut swapped = bytes.clone();
        swapped[1..HEADER_BYTES].copy_from_slice(&other.id().0);
        prop_assert!(matches!(ring.open(&token_of(&swapped)), Err(OpenError::Forged)));
        // An unknown id.
        prop_assume!(id != key.id().0 && id != other.id().0);
        let mut unknown = bytes.clone();
        unknown[1..HEADER_BYTES].copy_from_slice(&id);
        prop_assert!(matches!(ring.open(&token_of(&unknown)), Err(OpenError::UnknownKey(found)) if found == KeyId(id)));
        // Any other version byte, older or newer.
        prop_assume!(version != bytes[0]);
        let mut versioned = bytes;
        versioned[0] = version;
        prop_assert!(matches!(ring.open(&token_of(&versioned)), Err(OpenError::UnsupportedVersion(v)) if v == version));
    }

    #[test]
    fn parts_swapped_between_tokens_are_refused(a in sessions(), b in sessions(), split in 1usize..60) {
        let key = SealKey::generate();
        let other = SealKey::generate();
        let one = ring(&[&key]);
        let two = ring(&[&other]);
        let ta = bytes_of(&one.seal(&a, COOKIE).expect("seal"));
        let tb = bytes_of(&one.seal(&b, COOKIE).expect("seal"));
        // The front of one token and the back of another, both under the same key.
        let cut = split.min(ta.len() - 1).min(tb.len() - 1);
        let mut spliced = ta[..cut].to_vec();
        spliced.extend_from_slice(&tb[cut..]);
        prop_assume!(spliced != ta && spliced != tb);
        prop_assert!(one.open(&token_of(&spliced)).is_err());
        // A token of one key presented to a ring of another, even with the header rewritten.
        let foreign = one.seal(&a, COOKIE).expect("seal");
        prop_assert!(matches!(two.open(&foreign), Err(OpenError::UnknownKey(_))));
        let mut relabelled = bytes_of(&foreign);
        relabelled[1..HEADER_BYTES].copy_from_slice(&other.id().0);
        prop_assert!(matches!(two.open(&token_of(&relabelled)), Err(OpenError::Forged)));
    }

    #[test]
    fn opening_arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let ring = ring(&[&SealKey::generate()]);
        let _ = ring.open(&text);
        let _ = ring.open(&format!("{SEALED_PREFIX}{text}"));
    }
}

#[test]
fn tokens_survive_a_rotation_and_die_with_their_key() {
    let (old, new) = (SealKey::generate(), SealKey::generate());
    let s = session("alice", None, Map::new(), 0);
    let before = ring(&[&old]).seal(&s, COOKIE).expect("seal");
    let rotated = ring(&[&new, &old]);
    assert_eq!(rotated.open(&before).expect("the old key still opens"), s);
    let after = rotated.seal(&s, COOKIE).expect("seal");
    assert_eq!(bytes_of(&after)[1..HEADER_BYTES], new.id().0, "the first key seals");
    let retired = ring(&[&new]);
    assert!(matches!(retired.open(&before), Err(OpenError::UnknownKey(id)) if id == old.id()));
    assert_eq!(retired.open(&after).expect("open"), s);
}

#[test]
fn a_token_past_the_cookie_budget_is_refused_when_sealed() {
    let ring = ring(&[&SealKey::generate()]);
    let mut attributes = Map::new();
    attributes.insert("big".into(), json!("x".repeat(COOKIE_BUDGET)));
    let error = ring.seal(&session("alice", None, attributes, 0), COOKIE).unwrap_err();
    let SealError::CookieTooLarge { bytes, budget } = error else { panic!("{error:?}") };
    assert_eq!(budget, 4096);
    assert!(bytes > 4096);
    assert!(error.to_string().contains("4096"), "{error}");
    // The budget counts `name=value`: find the largest attribute that fits, and check the edge.
    let fits = |n: usize| {
        let mut attributes = Map::new();
        attributes.insert("v".into(), json!("y".repeat(n)));
        ring.seal(&session("alice", None, attributes, 0), COOKIE)
    };
    // Binary search: `fits(lo)` holds, `fits(hi)` does not.
    let (mut lo, mut hi) = (0, COOKIE_BUDGET);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if fits(mid).is_ok() { lo = mid } else { hi = mid }
    }
    let largest = lo;
    let token = fits(largest).expect("fits");
    let size = COOKIE.len() + 1 + token.len();
    assert!(size <= COOKIE_BUDGET && size > COOKIE_BUDGET - 4, "{size}");
    assert!(matches!(fits(largest + 3), Err(SealError::CookieTooLarge { .. })));
}
