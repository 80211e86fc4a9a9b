//! Reading one cookie out of a `Cookie` header value: a split on `;` and `=`, ten lines, so no
//! crate. Pure, so the server's cookie handling and the fuzz target share it.

/// The value of the first cookie named `name` in a `Cookie` header value (`a=1; b=2`), trimmed.
/// Pairs without `=` are skipped; names are compared exactly.
pub fn find_cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(candidate, _)| *candidate == name)
        .map(|(_, value)| value.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_named_cookie_only() {
        assert_eq!(find_cookie("a=1; __Host-continuum=tok.en ; b=2", "__Host-continuum"), Some("tok.en"));
        assert_eq!(find_cookie("continuum=x", "__Host-continuum"), None);
        assert_eq!(find_cookie("junk; =; continuum=cs~AA==", "continuum"), Some("cs~AA=="));
        assert_eq!(find_cookie("", "continuum"), None);
    }
}
