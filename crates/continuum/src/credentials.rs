//! Where a client command finds its API key: `--api-key`, `CONTINUUM_API_KEY`, or the server's
//! key file in its data directory (read, never created: a key the server does not know is useless).

use std::io;
use std::path::{Path, PathBuf};

use continuum_server::api_keys::{KeyFileError, key_file_path, read_keys};

use crate::config::DEFAULT_DATA;
use continuum_client::BearerKey;

/// Why no usable API key was found.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// Neither a key nor a key file.
    #[error(
        "no API key: pass --api-key, set CONTINUUM_API_KEY, or point --data at the server's data \
         directory (there is no key file at {path})"
    )]
    NoKey {
        /// Where the key file was looked for.
        path: PathBuf,
    },
    /// The key file exists but cannot be read.
    #[error("cannot read the API key file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The key file holds no key.
    #[error("the API key file {path} holds no key")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The key cannot be sent in an HTTP header.
    #[error("the API key contains characters that cannot be sent in an HTTP header")]
    Unusable,
}

/// The arguments that say where the API key comes from, shared by `sessions` and `bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct KeyArgs {
    /// The API key for the backend plane; when absent, the first key of the data directory's
    /// key file.
    #[arg(
        long,
        help = "API key for the backend plane (prefer the variable: arguments are visible to other \
                local users); the first of a comma-separated list is used [default: the first key \
                in <DATA>/api-keys]",
        env = "CONTINUUM_API_KEY",
        hide_env_values = true,
        value_name = "KEY",
        global = true,
        display_order = 101
    )]
    pub api_key: Option<String>,
    /// The server's data directory, to read the API key file from
    #[arg(long, env = "CONTINUUM_DATA", value_name = "DIR", default_value = DEFAULT_DATA, global = true, display_order = 102)]
    pub data: PathBuf,
}

impl KeyArgs {
    /// The key to present, from the arguments or else the key file.
    pub fn bearer(&self) -> Result<BearerKey, CredentialsError> {
        let key = match self.api_key.as_deref().and_then(first_key) {
            Some(key) => key.to_owned(),
            None => read_key_file(&self.data)?,
        };
        BearerKey::new(&key).ok_or(CredentialsError::Unusable)
    }
}

/// The first non-blank key of a comma-separated list.
fn first_key(list: &str) -> Option<&str> {
    list.split(',').map(str::trim).find(|key| !key.is_empty())
}

/// The first key in the key file of `data_dir`, which has one key a line and `#` comments.
pub fn read_key_file(data_dir: &Path) -> Result<String, CredentialsError> {
    let path = key_file_path(data_dir);
    match read_keys(&path) {
        Ok(Some(keys)) => keys.into_iter().next().ok_or(CredentialsError::Empty { path }),
        Ok(None) => Err(CredentialsError::NoKey { path }),
        Err(KeyFileError::Read { source, .. } | KeyFileError::Write { source, .. }) => {
            Err(CredentialsError::Read { path, source })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(api_key: Option<&str>, data: &Path) -> KeyArgs {
        KeyArgs { api_key: api_key.map(str::to_owned), data: data.to_owned() }
    }

    #[test]
    fn an_explicit_key_wins_and_lists_give_their_first() {
        let dir = tempfile::tempdir().unwrap();
        assert!(args(Some("ck_explicit"), dir.path()).bearer().is_ok());
        assert_eq!(first_key(" , ck_a, ck_b"), Some("ck_a"));
        assert_eq!(first_key(" , "), None);
    }

    #[test]
    fn the_key_file_is_read_but_never_created() {
        let dir = tempfile::tempdir().unwrap();
        let error = args(None, dir.path()).bearer().unwrap_err();
        assert!(matches!(error, CredentialsError::NoKey { .. }), "{error}");
        assert!(!key_file_path(dir.path()).exists());

        std::fs::write(key_file_path(dir.path()), "# keys\n\n").unwrap();
        assert!(matches!(read_key_file(dir.path()), Err(CredentialsError::Empty { .. })));
        std::fs::write(key_file_path(dir.path()), "# keys\nck_first\nck_second\n").unwrap();
        assert_eq!(read_key_file(dir.path()).unwrap(), "ck_first");
    }
}
