//! `EXTERNAL`: apps started outside this process that the load drives like the in-process modes
//! (`bench/tower.sh` passes the visits app on tower-sessions this way).

use anyhow::{Context as _, bail};

/// An app this process did not start, by its row name and base URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct External {
    /// The row name in the table.
    pub name: String,
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub base: String,
}

/// Parses `name=http://127.0.0.1:port,name=…`; empty means none.
pub fn parse(value: &str) -> anyhow::Result<Vec<External>> {
    let mut apps = Vec::new();
    for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((name, base)) = entry.split_once('=') else {
            bail!("EXTERNAL: `{entry}` is not name=http://127.0.0.1:<port>");
        };
        let (name, base) = (name.trim(), base.trim().trim_end_matches('/'));
        let authority = base
            .strip_prefix("http://")
            .with_context(|| format!("EXTERNAL: `{base}` ({name}) is not an http:// URL"))?;
        let addr: std::net::SocketAddr = authority
            .parse()
            .with_context(|| format!("EXTERNAL: `{authority}` ({name}) is not an ip:port address"))?;
        if !addr.ip().is_loopback() || name.is_empty() {
            bail!(
                "EXTERNAL: `{entry}` needs a name and a loopback address (the load is not for remote hosts)"
            );
        }
        apps.push(External { name: name.to_owned(), base: base.to_owned() });
    }
    Ok(apps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_named_loopback_urls_and_explains_the_rest() {
        let apps = parse(" a=http://127.0.0.1:1/ , b c=http://[::1]:2").unwrap();
        assert_eq!(
            apps,
            [
                External { name: "a".into(), base: "http://127.0.0.1:1".into() },
                External { name: "b c".into(), base: "http://[::1]:2".into() },
            ]
        );
        assert!(parse("").unwrap().is_empty());
        for bad in
            ["a", "a=127.0.0.1:1", "a=http://localhost:1", "a=http://10.0.0.1:1", "=http://127.0.0.1:1"]
        {
            assert!(parse(bad).unwrap_err().to_string().starts_with("EXTERNAL: "), "{bad}");
        }
    }
}
