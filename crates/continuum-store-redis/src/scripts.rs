//! The Lua scripts behind every write (and the document load), compiled into the binary from
//! `scripts/*.lua` and run with `EVALSHA`, loading them on `NOSCRIPT`.
//!
//! Each script touches the keys of one slot only (on a cluster a script may not do more), so
//! each is atomic on a cluster as on a single server. The session scripts share
//! `session_lib.lua` (the key's real-time expiry and the purge time).

use std::sync::LazyLock;

use redis::Script;

use crate::connection::Connection;
use crate::error::RedisStoreError;

/// Every script, hashed once.
pub(crate) struct Scripts {
    /// Insert a session unless it exists.
    pub session_insert: Script,
    /// Compare-and-swap a session on its version.
    pub session_replace: Script,
    /// Move an active session's `last_seen` forward.
    pub session_touch: Script,
    /// Delete a due session the expiry index named.
    pub session_purge: Script,
    /// Read a document's snapshot, updates and `last_seq` at once.
    pub doc_load: Script,
    /// Append an update under the next sequence number.
    pub doc_append: Script,
    /// Replace the snapshot and the updates it covers.
    pub doc_compact: Script,
    /// Store a named version under the next id.
    pub doc_save_version: Script,
}

macro_rules! session_script {
    ($file:literal) => {
        Script::new(concat!(include_str!("../scripts/session_lib.lua"), include_str!($file)))
    };
}

/// The scripts, built on first use.
pub(crate) static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| Scripts {
    session_insert: session_script!("../scripts/session_insert.lua"),
    session_replace: session_script!("../scripts/session_replace.lua"),
    session_touch: session_script!("../scripts/session_touch.lua"),
    session_purge: session_script!("../scripts/session_purge.lua"),
    doc_load: Script::new(include_str!("../scripts/doc_load.lua")),
    doc_append: Script::new(include_str!("../scripts/doc_append.lua")),
    doc_compact: Script::new(include_str!("../scripts/doc_compact.lua")),
    doc_save_version: Script::new(include_str!("../scripts/doc_save_version.lua")),
});

impl Scripts {
    fn all(&self) -> [(&'static str, &Script); 8] {
        [
            ("session_insert", &self.session_insert),
            ("session_replace", &self.session_replace),
            ("session_touch", &self.session_touch),
            ("session_purge", &self.session_purge),
            ("doc_load", &self.doc_load),
            ("doc_append", &self.doc_append),
            ("doc_compact", &self.doc_compact),
            ("doc_save_version", &self.doc_save_version),
        ]
    }

    /// Loads every script (`SCRIPT LOAD`; on a cluster, on every primary), so the first call of
    /// each is one `EVALSHA`. A server that lost its script cache later (restart, failover,
    /// `SCRIPT FLUSH`) answers `NOSCRIPT` once and the script is loaded again.
    pub(crate) async fn load_all(&self, connection: &Connection) -> Result<(), RedisStoreError> {
        for (name, script) in self.all() {
            let mut connection = connection.clone();
            script
                .prepare_invoke()
                .load_async(&mut connection)
                .await
                .map_err(|source| RedisStoreError::Command { command: name, source })?;
        }
        Ok(())
    }
}
