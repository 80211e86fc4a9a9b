//! Data at rest kept private: the data directory is created `0700` and a store's file `0600`,
//! so other users of the machine cannot read sessions and documents. A directory or file that
//! already exists is left as it is (its owner chose its mode), with a warning in the log if
//! its group or others may read it.
//!
//! On systems other than Unix the modes do not apply and only the creation is done.

use std::io;
use std::path::Path;

/// The mode of a data directory this module creates.
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// The mode of a store file this module creates.
pub const PRIVATE_FILE_MODE: u32 = 0o600;

/// Whether a file of mode `mode` may be read (or, for a directory, listed) by its group or by
/// others: any of the `0o077` bits set.
pub fn exposed(mode: u32) -> bool {
    mode & 0o077 != 0
}

/// Creates the directory `path` (and missing parents) `0700`; if it exists already, leaves it
/// alone and warns if its mode is [`exposed`]. Returns whether it created it.
pub fn ensure_private_dir(path: &Path) -> io::Result<bool> {
    if path.is_dir() {
        warn_if_exposed(path, "data directory");
        return Ok(false);
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(PRIVATE_DIR_MODE);
    }
    builder.create(path)?;
    Ok(true)
}

/// Creates the empty file `path` `0600` if it is missing, so that a store opening it later
/// finds it private; if it exists already, leaves it alone and warns if its mode is
/// [`exposed`]. Returns whether it created it.
pub fn ensure_private_file(path: &Path) -> io::Result<bool> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(PRIVATE_FILE_MODE);
    }
    match options.open(path) {
        Ok(_) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            warn_if_exposed(path, "store file");
            Ok(false)
        }
        Err(error) => Err(error),
    }
}

#[cfg(unix)]
fn warn_if_exposed(path: &Path, what: &str) {
    use std::os::unix::fs::PermissionsExt as _;
    let Ok(metadata) = std::fs::metadata(path) else { return };
    let mode = metadata.permissions().mode() & 0o777;
    if exposed(mode) {
        tracing::warn!(
            path = %path.display(),
            mode = format_args!("{mode:o}"),
            "the {what} may be read by other users; it was not changed (chmod go-rwx to keep it private)"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_exposed(_path: &Path, _what: &str) {}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn group_or_other_bits_are_exposed() {
        assert!(!exposed(0o700));
        assert!(!exposed(0o600));
        assert!(exposed(0o755));
        assert!(exposed(0o640));
        assert!(exposed(0o604));
    }

    #[test]
    fn a_new_directory_and_its_new_parents_are_private() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("a/b");
        assert!(ensure_private_dir(&path).unwrap());
        assert_eq!(mode(&path), 0o700);
        assert_eq!(mode(&root.path().join("a")), 0o700);
        assert!(!ensure_private_dir(&path).unwrap(), "the second time it exists");
    }

    #[test]
    fn an_existing_directory_keeps_its_mode() {
        let root = tempfile::tempdir().unwrap();
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(!ensure_private_dir(root.path()).unwrap());
        assert_eq!(mode(root.path()), 0o755);
    }

    #[test]
    fn a_new_file_is_private_and_an_existing_one_keeps_its_mode_and_content() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("store");
        assert!(ensure_private_file(&path).unwrap());
        assert_eq!(mode(&path), 0o600);
        std::fs::write(&path, b"kept").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(!ensure_private_file(&path).unwrap());
        assert_eq!(mode(&path), 0o644);
        assert_eq!(std::fs::read(&path).unwrap(), b"kept");
    }
}

/// The lines of the key file at `path` that hold something, trimmed, with their 1-based line
/// numbers (blank lines and `#` comments skipped); `None` when there is no such file.
pub fn read_key_lines(path: &Path) -> io::Result<Option<Vec<(usize, String)>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    let lines = text.lines().enumerate().map(|(i, line)| (i + 1, line.trim()));
    Ok(Some(
        lines
            .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
            .map(|(number, line)| (number, line.to_owned()))
            .collect(),
    ))
}

/// Writes a key file whole: `# header`, then `lines`, into a temporary file beside `path`
/// created with mode 0600, fsynced, then renamed over `path`; the directory is made private
/// first ([`ensure_private_dir`]). A crash leaves the old file or the new one, never half.
pub fn write_key_lines(path: &Path, header: &str, lines: impl IntoIterator<Item = String>) -> io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent() {
        ensure_private_dir(dir)?;
    }
    let temporary = path.with_extension("new");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&temporary)?;
    writeln!(file, "# {header}")?;
    for line in lines {
        writeln!(file, "{line}")?;
    }
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}
