//! The sealing key file: `<data>/sealing-keys`, one `sk_…` key a line, the first sealing and every
//! one opening (see [`continuum_core::KeyRing`]). Created with one fresh key and mode 0600 on the
//! first start when no key is configured; rewritten whole (a new file renamed over the old one)
//! by a rotation, so a crash leaves either the old ring or the new one. Keys are never logged;
//! only their ids and the file's path are.

use std::io;
use std::path::{Path, PathBuf};

use continuum_core::seal::KeyError;
use continuum_core::{KeyId, KeyRing, SealKey};
use continuum_store::private_fs;

/// The file's name inside the data directory.
pub const SEALING_KEYS_FILE: &str = "sealing-keys";

/// Why the sealing key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SealingKeyFileError {
    /// Reading failed.
    #[error("cannot read the sealing key file {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Writing failed.
    #[error("cannot write the sealing key file {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A line is not a key, or the keys do not form a ring.
    #[error("the sealing key file {path} is invalid (line {line})")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The line (from 1); 0 for the file as a whole.
        line: usize,
        /// What is wrong.
        #[source]
        source: KeyError,
    },
    /// Retiring the key that seals, or one the ring does not hold.
    #[error("{0}")]
    Refused(String),
}

/// The sealing key file of a data directory and the ring it holds.
#[derive(Debug)]
pub struct SealingKeyFile {
    /// Where the file is.
    pub path: PathBuf,
    /// Whether this call created it.
    pub created: bool,
    /// The ring.
    pub ring: KeyRing,
}

/// The path of the sealing key file in `data_dir`.
pub fn key_file_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SEALING_KEYS_FILE)
}

/// The keys in the file at `path` (blank lines and `#` comments skipped), or `None` when there
/// is no such file.
pub fn read_keys(path: &Path) -> Result<Option<Vec<SealKey>>, SealingKeyFileError> {
    let lines = private_fs::read_key_lines(path)
        .map_err(|source| SealingKeyFileError::Read { path: path.to_owned(), source })?;
    let Some(lines) = lines else { return Ok(None) };
    lines
        .into_iter()
        .map(|(line, text)| {
            SealKey::parse(&text).map_err(|source| SealingKeyFileError::Invalid {
                path: path.to_owned(),
                line,
                source,
            })
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

fn ring(path: &Path, keys: Vec<SealKey>) -> Result<KeyRing, SealingKeyFileError> {
    KeyRing::new(keys).map_err(|source| SealingKeyFileError::Invalid {
        path: path.to_owned(),
        line: 0,
        source,
    })
}

/// Writes `keys` to `path` whole (see [`private_fs::write_key_lines`]).
fn write_keys(path: &Path, keys: &[SealKey]) -> Result<(), SealingKeyFileError> {
    let lines = keys.iter().map(SealKey::to_secret_text);
    private_fs::write_key_lines(
        path,
        "Continuum sealing keys: the first seals, every key opens. Keep this file secret.",
        lines,
    )
    .map_err(|source| SealingKeyFileError::Write { path: path.to_owned(), source })
}

/// Reads the sealing key file of `data_dir`, creating it with one new key when it is missing or
/// holds no key.
pub fn load_or_create(data_dir: &Path) -> Result<SealingKeyFile, SealingKeyFileError> {
    let path = key_file_path(data_dir);
    match read_keys(&path)? {
        Some(keys) if !keys.is_empty() => {
            Ok(SealingKeyFile { ring: ring(&path, keys)?, path, created: false })
        }
        _ => {
            let key = SealKey::generate();
            write_keys(&path, std::slice::from_ref(&key))?;
            Ok(SealingKeyFile { ring: ring(&path, vec![key])?, path, created: true })
        }
    }
}

/// Puts a new key first in the file of `data_dir` (it seals from the next start on; the others
/// keep opening) and returns its id and the file's path.
pub fn rotate(data_dir: &Path) -> Result<(KeyId, PathBuf), SealingKeyFileError> {
    let path = key_file_path(data_dir);
    let mut keys = read_keys(&path)?.unwrap_or_default();
    let key = SealKey::generate();
    let id = key.id();
    keys.insert(0, key);
    ring(&path, keys.clone())?;
    write_keys(&path, &keys)?;
    Ok((id, path))
}

/// Removes the key with id `id` from the file of `data_dir`: tokens it sealed are refused from
/// the next start on. The sealing (first) key cannot be retired; rotate first.
pub fn retire(data_dir: &Path, id: &str) -> Result<PathBuf, SealingKeyFileError> {
    let path = key_file_path(data_dir);
    let keys = read_keys(&path)?.unwrap_or_default();
    let position = keys.iter().position(|key| key.id().to_string() == id.trim().to_ascii_lowercase());
    match position {
        None => Err(SealingKeyFileError::Refused(format!("{} holds no key with id {id}", path.display()))),
        Some(0) => Err(SealingKeyFileError::Refused(format!(
            "key {id} is the sealing key; rotate first (`continuum keys sealing rotate`), then retire it"
        ))),
        Some(i) => {
            let mut keys = keys;
            keys.remove(i);
            write_keys(&path, &keys)?;
            Ok(path)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn the_file_is_created_private_rotated_and_retired() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        assert!(first.created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&first.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let old = first.ring.ids()[0];
        let again = load_or_create(dir.path()).unwrap();
        assert!(!again.created);
        assert_eq!(again.ring.ids(), vec![old]);
        let (new, _) = rotate(dir.path()).unwrap();
        assert_eq!(load_or_create(dir.path()).unwrap().ring.ids(), vec![new, old], "the new key seals");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&first.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "still private after the rewrite");
        }
        assert!(retire(dir.path(), &new.to_string()).unwrap_err().to_string().contains("sealing key"));
        assert!(retire(dir.path(), "00000000").is_err());
        retire(dir.path(), &old.to_string()).unwrap();
        assert_eq!(load_or_create(dir.path()).unwrap().ring.ids(), vec![new]);
    }

    #[test]
    fn a_bad_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(key_file_path(dir.path()), "# keys\n\nsk_nope\n").unwrap();
        let error = load_or_create(dir.path()).unwrap_err();
        assert!(matches!(error, SealingKeyFileError::Invalid { line: 3, .. }), "{error:?}");
    }
}
