//! Backend-plane API keys: checking a presented key, and the key file in the data directory.
//!
//! Keys are compared in constant time. When no key is configured, the server
//! reads `<data>/api-keys` (one key a line), creating it with one fresh key and mode 0600 on the
//! first start. The key itself is never logged; only the file's path is.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The key file's name inside the data directory.
pub const API_KEYS_FILE: &str = "api-keys";

/// Why the key file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// Reading failed.
    #[error("cannot read the API key file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Creating or writing failed.
    #[error("cannot write the API key file {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// The set of accepted API keys.
///
/// A presented key is compared with every accepted key in constant time for keys of equal length
/// (the length of a key is not secret: generated keys all have the same one). Comparing the raw
/// bytes instead of digests keeps a SHA-256 off every backend request.
#[derive(Clone)]
pub struct ApiKeys {
    keys: Vec<Box<[u8]>>,
}

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKeys({} keys)", self.keys.len())
    }
}

impl ApiKeys {
    /// Accepts exactly `keys` (surrounding blanks trimmed, blank entries ignored).
    pub fn new<S: AsRef<str>>(keys: &[S]) -> Self {
        let keys = keys
            .iter()
            .map(|key| key.as_ref().trim())
            .filter(|key| !key.is_empty())
            .map(|key| key.as_bytes().into())
            .collect();
        Self { keys }
    }

    /// How many keys are accepted.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is accepted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether `presented` is one of the keys; every key is compared, whichever matches.
    pub fn verify(&self, presented: &str) -> bool {
        let presented = presented.as_bytes();
        self.keys.iter().fold(false, |found, key| found | constant_time_eq::constant_time_eq(key, presented))
    }
}

/// A new random API key: `ck_` and 32 random bytes in base64url.
pub fn generate_key() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    format!("ck_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The key file of a data directory and what it holds.
#[derive(Debug)]
pub struct KeyFile {
    /// Where the file is.
    pub path: PathBuf,
    /// Whether this call created it.
    pub created: bool,
    /// The keys in it.
    pub keys: Vec<String>,
}

/// The path of the key file in `data_dir`.
pub fn key_file_path(data_dir: &Path) -> PathBuf {
    data_dir.join(API_KEYS_FILE)
}

/// The keys in the key file at `path` (one a line, blank lines and `#` comments skipped), or
/// `None` when there is no such file. Never creates it.
pub fn read_keys(path: &Path) -> Result<Option<Vec<String>>, KeyFileError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(str::to_owned)
                .collect(),
        )),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(KeyFileError::Read { path: path.to_owned(), source }),
    }
}

fn append_key(path: &Path, key: &str) -> Result<(), KeyFileError> {
    let write = |source| KeyFileError::Write { path: path.to_owned(), source };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(write)?;
    }
    let mut options = fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(write)?;
    writeln!(file, "{key}").map_err(write)?;
    file.sync_all().map_err(write)
}

/// Reads the key file of `data_dir`, creating it with one new key when it is missing or empty.
pub fn load_or_create(data_dir: &Path) -> Result<KeyFile, KeyFileError> {
    let path = key_file_path(data_dir);
    match read_keys(&path)? {
        Some(keys) if !keys.is_empty() => Ok(KeyFile { path, created: false, keys }),
        _ => {
            let key = generate_key();
            append_key(&path, &key)?;
            Ok(KeyFile { path, created: true, keys: vec![key] })
        }
    }
}

/// Adds a new key to the key file of `data_dir` and returns it.
pub fn add_key(data_dir: &Path) -> Result<(String, PathBuf), KeyFileError> {
    let path = key_file_path(data_dir);
    let key = generate_key();
    append_key(&path, &key)?;
    Ok((key, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_only_configured_keys() {
        let keys = ApiKeys::new(&["alpha", " ", "beta"]);
        assert_eq!(keys.len(), 2);
        assert!(keys.verify("alpha") && keys.verify("beta"));
        assert!(!keys.verify("alph") && !keys.verify("") && !keys.verify("alpha "));
    }

    #[test]
    fn key_file_is_created_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        assert!(first.created);
        assert_eq!(first.keys.len(), 1);
        assert!(first.keys[0].starts_with("ck_") && first.keys[0].len() == 46);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&first.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = load_or_create(dir.path()).unwrap();
        assert!(!again.created);
        assert_eq!(again.keys, first.keys);
        let (added, _) = add_key(dir.path()).unwrap();
        assert_eq!(load_or_create(dir.path()).unwrap().keys, vec![first.keys[0].clone(), added]);
    }
}
