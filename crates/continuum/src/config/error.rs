//! [`ConfigError`]: why a configuration cannot be used, shared by every layer's reader and by
//! the resolution.

use std::path::PathBuf;

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not follow the schema (an unknown key, a wrong type).
    #[error("invalid configuration file {path}")]
    ParseFile {
        /// The file.
        path: PathBuf,
        /// What is wrong and where, with the offending key.
        #[source]
        source: toml::de::Error,
    },
    /// An environment variable's value does not parse.
    #[error("environment variable {name}={value:?}: {reason}")]
    Env {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A setting is out of range or inconsistent with another.
    #[error("`{key}` {reason}")]
    Invalid {
        /// The setting, as its TOML key (`sessions.touch_fraction`).
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}
