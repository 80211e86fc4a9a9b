//! Reading one sample from the server's `/metrics` text (Prometheus or OpenMetrics exposition).

/// The RSS gauge `idle-memory` reads.
pub const RESIDENT_MEMORY: &str = "continuum_process_resident_memory_bytes";

/// The gauge of sessions the server holds.
pub const SESSIONS: &str = "continuum_sessions";

/// The value of the first sample of `metric` in `text`, whatever its labels; `None` when there
/// is none or its value does not parse.
pub fn sample(text: &str, metric: &str) -> Option<f64> {
    text.lines().filter(|line| !line.starts_with('#')).find_map(|line| {
        let rest = line.strip_prefix(metric)?;
        let rest = match rest.chars().next()? {
            ' ' | '\t' => rest,
            // Labels: the value follows the closing brace (label values cannot contain `}` unescaped
            // in the formats we read, and ours carry none).
            '{' => &rest[rest.find('}')? + 1..],
            _ => return None, // a longer name such as `continuum_sessions_created_total`
        };
        rest.split_whitespace().next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# HELP continuum_sessions_created Sessions created.
# TYPE continuum_sessions_created counter
continuum_sessions_created_total 12
# HELP continuum_sessions Sessions held.
# TYPE continuum_sessions gauge
continuum_sessions{store=\"redb\"} 100000
# TYPE continuum_process_resident_memory_bytes gauge
continuum_process_resident_memory_bytes 5.24288e7 1700000000
# EOF
";

    #[test]
    fn finds_samples_with_and_without_labels() {
        assert_eq!(sample(TEXT, RESIDENT_MEMORY), Some(52_428_800.0));
        assert_eq!(sample(TEXT, SESSIONS), Some(100_000.0));
        assert_eq!(sample(TEXT, "continuum_sessions_created_total"), Some(12.0));
    }

    #[test]
    fn does_not_confuse_prefixes_or_comments() {
        assert_eq!(sample(TEXT, "continuum_sessions_created"), None);
        assert_eq!(sample("continuum_sessions_total 3\n", SESSIONS), None);
        assert_eq!(sample("# continuum_sessions 3\n", SESSIONS), None);
        assert_eq!(sample("continuum_sessions NaNish\n", SESSIONS), None);
    }
}
