//! Data at rest is private: on a first start the server creates its data directory `0700` and
//! the embedded store's file `0600` (the key files were already `0600`); a directory that
//! exists is left with the mode its owner gave it.

#![cfg(unix)]

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use common::{TestServer, config};
use continuum_backends::STORE_FILE;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_creates_the_data_private() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let server = TestServer::start_config(config(&data)).await;
    assert_eq!(mode(&data), 0o700, "the data directory");
    assert_eq!(mode(&data.join(STORE_FILE)), 0o600, "the store file");
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path) & 0o077, 0, "{} is private", path.display());
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_data_directory_keeps_its_mode() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o750)).unwrap();
    let server = TestServer::start_config(config(&data)).await;
    assert_eq!(mode(&data), 0o750, "not changed, only warned about");
    assert_eq!(mode(&data.join(STORE_FILE)), 0o600, "the new store file is still private");
    server.stop().await;
}
