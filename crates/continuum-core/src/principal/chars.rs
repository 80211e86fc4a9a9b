//! Which characters a principal may not contain, and why: pure classification, no allocation.
//!
//! A principal is shown to people (the admin page, device lists) and compared byte for byte, so
//! characters that are invisible or that reorder the text around them would let two principals
//! look the same, or one look like another (`admin\u{202E}gnp.exe` shows as `adminexe.png`).

use std::fmt;

/// The kind of character a principal may not contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forbidden {
    /// A bidirectional control: embeddings, overrides and isolates (U+202A–U+202E,
    /// U+2066–U+2069) and the marks U+200E, U+200F and U+061C.
    Bidi,
    /// A character that is not drawn: zero-width spaces and joiners (U+200B–U+200D), word
    /// joiner and invisible operators (U+2060–U+2064), the byte-order mark U+FEFF, and the rest
    /// of Unicode's default-ignorable and format characters (soft hyphen, variation selectors,
    /// Hangul fillers, tags, …).
    Invisible,
    /// Whitespace other than U+0020 SPACE (no-break, ideographic, line and paragraph separators, …).
    Whitespace,
}

impl fmt::Display for Forbidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Forbidden::Bidi => "bidirectional control",
            Forbidden::Invisible => "invisible (zero-width or format) character",
            Forbidden::Whitespace => "whitespace other than a plain space",
        })
    }
}

/// Why `c` may not be in a principal, or `None` if it may. Control characters are told apart
/// by the caller ([`char::is_control`]).
pub fn forbidden(c: char) -> Option<Forbidden> {
    let code = u32::from(c);
    if is_bidi(code) {
        return Some(Forbidden::Bidi);
    }
    if is_invisible(code) {
        return Some(Forbidden::Invisible);
    }
    if c != ' ' && c.is_whitespace() && !c.is_control() {
        return Some(Forbidden::Whitespace);
    }
    None
}

fn is_bidi(code: u32) -> bool {
    matches!(code, 0x061C | 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069)
}

/// Default_Ignorable_Code_Point (Unicode 15 DerivedCoreProperties.txt) and the format (Cf)
/// characters outside it that are not drawn either (Arabic number signs, interlinear annotation,
/// Egyptian format controls, shorthand format controls, musical formatting).
fn is_invisible(code: u32) -> bool {
    matches!(
        code,
        0x00AD
            | 0x034F
            | 0x0600..=0x0605
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200D
            | 0x2060..=0x2065
            | 0x206A..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_controls_are_forbidden() {
        for code in
            [0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]
        {
            let c = char::from_u32(code).unwrap();
            assert_eq!(forbidden(c), Some(Forbidden::Bidi), "U+{code:04X}");
        }
    }

    #[test]
    fn invisible_characters_are_forbidden() {
        for code in [0x00AD, 0x200B, 0x200C, 0x200D, 0x2060, 0x2064, 0xFEFF, 0xFE0F, 0x3164, 0xE0041, 0x180E]
        {
            let c = char::from_u32(code).unwrap();
            assert_eq!(forbidden(c), Some(Forbidden::Invisible), "U+{code:04X}");
        }
    }

    #[test]
    fn unusual_whitespace_is_forbidden_but_a_space_is_not() {
        for c in ['\u{00A0}', '\u{2028}', '\u{2029}', '\u{3000}', '\u{2003}'] {
            assert_eq!(forbidden(c), Some(Forbidden::Whitespace), "{c:?}");
        }
        assert_eq!(forbidden(' '), None);
    }

    #[test]
    fn ordinary_text_is_allowed() {
        for c in "alice@example.com zoë 山田 Ωμέγα user-42_x+tag".chars() {
            assert_eq!(forbidden(c), None, "{c:?}");
        }
    }
}
