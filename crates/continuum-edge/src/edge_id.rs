//! The edge's id: given, or read from (first written to) `<data>/edge-id`, so that it stays the
//! same across restarts — the origin keeps what it knows of an edge under it.

use std::io;
use std::path::{Path, PathBuf};

/// The file in the data directory.
pub const FILE: &str = "edge-id";

/// The longest id.
pub const MAX_LEN: usize = 64;

/// Why the edge id could not be had.
#[derive(Debug, thiserror::Error)]
pub enum EdgeIdError {
    /// The file could not be read or written.
    #[error("cannot read or write the edge id file {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The id (given, or in the file) is not 1 to 64 of `A-Z a-z 0-9 - _ .`.
    #[error("invalid edge id {0:?}: 1 to 64 of A-Z a-z 0-9 - _ .")]
    Invalid(String),
}

/// Whether `id` is a valid edge id.
pub fn is_valid(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
}

/// `given` if any (checked), else the id in `<data>/edge-id`, else a new random one written
/// there. `data` must exist.
pub fn load_or_create(data: &Path, given: Option<&str>) -> Result<String, EdgeIdError> {
    if let Some(id) = given {
        return is_valid(id).then(|| id.to_owned()).ok_or_else(|| EdgeIdError::Invalid(id.to_owned()));
    }
    let path = data.join(FILE);
    let io_error = |source| EdgeIdError::Io { path: path.clone(), source };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let id = text.trim();
            is_valid(id).then(|| id.to_owned()).ok_or_else(|| EdgeIdError::Invalid(id.to_owned()))
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes).expect("the operating system's random source works");
            let id: String = std::iter::once("edge-".to_owned())
                .chain(bytes.iter().map(|byte| format!("{byte:02x}")))
                .collect();
            std::fs::write(&path, format!("{id}\n")).map_err(io_error)?;
            Ok(id)
        }
        Err(error) => Err(io_error(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_made_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("continuum-edge-id-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = std::fs::remove_file(dir.join(FILE));
        let first = load_or_create(&dir, None).unwrap();
        assert!(first.starts_with("edge-") && is_valid(&first), "{first}");
        assert_eq!(load_or_create(&dir, None).unwrap(), first, "read back");
        assert_eq!(load_or_create(&dir, Some("paris-1")).unwrap(), "paris-1", "given wins");
        assert!(matches!(load_or_create(&dir, Some("a b")), Err(EdgeIdError::Invalid(_))));
        std::fs::write(dir.join(FILE), "\n").unwrap();
        assert!(matches!(load_or_create(&dir, None), Err(EdgeIdError::Invalid(_))), "an emptied file");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
