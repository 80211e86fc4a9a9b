//! The data keys of encryption at rest: where they come from ([`key_source`]) and the key file
//! `<data>/data-keys` (one `dk_…` key a line, the first encrypting, every one decrypting; see
//! [`continuum_core::DataKeyRing`]). The file is created with one fresh key and mode 0600 on
//! the first start that needs it, and rewritten whole by a rotation (a new file fsynced and
//! renamed over the old one), so a crash leaves the old ring or the new one. Keys are never
//! logged; only their ids and the file's path are.
//!
//! Losing the file loses what was encrypted under its keys: back it up with the store.

use std::io;
use std::path::{Path, PathBuf};

use continuum_core::at_rest::DataKeyError;
use continuum_core::{DataKey, DataKeyRing, KeyId};
use continuum_store::private_fs;

use crate::store_config::StoreConfig;

/// The file's name inside the data directory.
pub const DATA_KEYS_FILE: &str = "data-keys";

/// Where a node's data keys come from, decided by [`key_source`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// Nothing is encrypted: turned off, or a store that keeps nothing at rest (memory).
    Off,
    /// The keys given in the configuration (`data_keys`, `CONTINUUM_DATA_KEYS`).
    Configured,
    /// The key file of the data directory, created on the first start.
    KeyFile,
    /// Off because the store is shared (Redis, PostgreSQL), encryption was not asked for
    /// explicitly and no keys are configured: a key file per node would leave each node unable
    /// to read what the others wrote. The caller warns.
    SharedWithoutKeys,
}

/// Where the data keys come from for `store`, given `encrypt` (`None` when the configuration
/// does not say: on) and whether keys are configured.
pub fn key_source(store: &StoreConfig, encrypt: Option<bool>, configured: bool) -> KeySource {
    let shared = store.is_shared();
    match (store, encrypt, configured) {
        (StoreConfig::Memory, _, _) | (_, Some(false), _) => KeySource::Off,
        (_, _, true) => KeySource::Configured,
        (_, None, false) if shared => KeySource::SharedWithoutKeys,
        _ => KeySource::KeyFile,
    }
}

/// Why the data key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DataKeyFileError {
    /// Reading failed.
    #[error("cannot read the data key file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Writing failed.
    #[error("cannot write the data key file {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A line is not a key, or the keys do not form a ring.
    #[error("the data key file {path} is invalid (line {line})")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The line (from 1); 0 for the file as a whole.
        line: usize,
        /// What is wrong.
        #[source]
        source: DataKeyError,
    },
}

/// The data key file of a data directory and the ring it holds.
#[derive(Debug)]
pub struct DataKeyFile {
    /// Where the file is.
    pub path: PathBuf,
    /// Whether this call created it.
    pub created: bool,
    /// The ring.
    pub ring: DataKeyRing,
}

/// The path of the data key file in `data_dir`.
pub fn key_file_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DATA_KEYS_FILE)
}

/// The keys in the file at `path` (blank lines and `#` comments skipped), or `None` when there
/// is no such file.
pub fn read_keys(path: &Path) -> Result<Option<Vec<DataKey>>, DataKeyFileError> {
    let lines = private_fs::read_key_lines(path)
        .map_err(|source| DataKeyFileError::Read { path: path.to_owned(), source })?;
    let Some(lines) = lines else { return Ok(None) };
    lines
        .into_iter()
        .map(|(line, text)| {
            DataKey::parse(&text).map_err(|source| DataKeyFileError::Invalid {
                path: path.to_owned(),
                line,
                source,
            })
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

fn ring(path: &Path, keys: Vec<DataKey>) -> Result<DataKeyRing, DataKeyFileError> {
    DataKeyRing::new(keys).map_err(|source| DataKeyFileError::Invalid {
        path: path.to_owned(),
        line: 0,
        source,
    })
}

/// Writes `keys` to `path` whole (see [`private_fs::write_key_lines`]).
fn write_keys(path: &Path, keys: &[DataKey]) -> Result<(), DataKeyFileError> {
    let lines = keys.iter().map(DataKey::to_secret_text);
    private_fs::write_key_lines(
        path,
        "Continuum data keys: the first encrypts, every key decrypts. Keep secret, back up.",
        lines,
    )
    .map_err(|source| DataKeyFileError::Write { path: path.to_owned(), source })
}

/// Reads the data key file of `data_dir`, creating it with one new key when it is missing or
/// holds no key.
pub fn load_or_create(data_dir: &Path) -> Result<DataKeyFile, DataKeyFileError> {
    let path = key_file_path(data_dir);
    match read_keys(&path)? {
        Some(keys) if !keys.is_empty() => Ok(DataKeyFile { ring: ring(&path, keys)?, path, created: false }),
        _ => {
            let key = DataKey::generate();
            write_keys(&path, std::slice::from_ref(&key))?;
            Ok(DataKeyFile { ring: ring(&path, vec![key])?, path, created: true })
        }
    }
}

/// Puts a new key first in the file of `data_dir` (it encrypts from the next start on; the
/// others keep decrypting what they encrypted) and returns its id and the file's path.
pub fn rotate(data_dir: &Path) -> Result<(KeyId, PathBuf), DataKeyFileError> {
    let path = key_file_path(data_dir);
    let mut keys = read_keys(&path)?.unwrap_or_default();
    let key = DataKey::generate();
    let id = key.id();
    keys.insert(0, key);
    ring(&path, keys.clone())?;
    write_keys(&path, &keys)?;
    Ok((id, path))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn the_file_is_created_private_and_rotated_with_the_new_key_first() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        assert!(first.created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(fs::metadata(&first.path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let old = first.ring.ids()[0];
        assert_eq!(load_or_create(dir.path()).unwrap().ring.ids(), vec![old]);
        let (new, _) = rotate(dir.path()).unwrap();
        assert_eq!(load_or_create(dir.path()).unwrap().ring.ids(), vec![new, old]);
        fs::write(key_file_path(dir.path()), "# keys\n\ndk_nope\n").unwrap();
        let error = load_or_create(dir.path()).unwrap_err();
        assert!(matches!(error, DataKeyFileError::Invalid { line: 3, .. }), "{error:?}");
    }

    #[test]
    fn shared_stores_encrypt_by_default_only_with_configured_keys() {
        let redis: StoreConfig = "redis://127.0.0.1:6379".parse().unwrap();
        let pg: StoreConfig = "postgres://127.0.0.1/test".parse().unwrap();
        assert_eq!(key_source(&StoreConfig::Redb, None, false), KeySource::KeyFile);
        assert_eq!(key_source(&StoreConfig::Replicated, None, false), KeySource::KeyFile);
        assert_eq!(key_source(&StoreConfig::Redb, Some(false), true), KeySource::Off);
        assert_eq!(key_source(&StoreConfig::Memory, Some(true), true), KeySource::Off);
        for shared in [&redis, &pg] {
            assert_eq!(key_source(shared, None, false), KeySource::SharedWithoutKeys);
            assert_eq!(key_source(shared, None, true), KeySource::Configured);
            assert_eq!(key_source(shared, Some(true), false), KeySource::KeyFile);
        }
    }
}
