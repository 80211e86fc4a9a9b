//! The cookie budget: browsers keep cookies whose `name=value` is at most 4096 bytes (RFC 6265
//! §6.1 asks for at least that; Chromium and Firefox refuse larger ones), so a sealed token that
//! would not fit is refused when it is sealed, not silently dropped by the browser later.

/// Bytes of a cookie's `name=value` a sealed token must fit in.
pub const COOKIE_BUDGET: usize = 4096;

/// Bytes of `name=value` for a cookie named `name` holding `value`.
pub fn cookie_bytes(name: &str, value: &str) -> usize {
    name.len() + 1 + value.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_name_equals_and_value() {
        assert_eq!(cookie_bytes("__Host-continuum", "abc"), 16 + 1 + 3);
        assert_eq!(cookie_bytes("", ""), 1);
    }
}
