//! [`RedbStoreError`]: what went wrong inside the redb store, carried as the cause of
//! [`continuum_store::StoreError::Backend`].

use std::path::PathBuf;
use std::sync::Arc;

/// The causes a [`crate::RedbStore`] reports. Callers see them as the `#[source]` of
/// [`continuum_store::StoreError::Backend`]; each keeps the error underneath it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedbStoreError {
    /// The database file could not be opened: missing directory, permissions, another process
    /// holding it ([`redb::DatabaseError::DatabaseAlreadyOpen`]), or a file that is not redb.
    /// A missing file that cannot be created private is reported here too, its I/O error as
    /// [`redb::StorageError::Io`].
    #[error("cannot open the session database at {}", path.display())]
    Open {
        /// The file asked for.
        path: PathBuf,
        /// What redb reported.
        #[source]
        source: redb::DatabaseError,
    },
    /// The configuration cannot work (a zero batch or queue size).
    #[error("invalid redb store configuration: {0}")]
    InvalidConfig(&'static str),
    /// redb failed while loading the sessions at open.
    #[error("cannot load the sessions from the database")]
    Load(#[source] redb::Error),
    /// A write transaction failed (begin, table access, write or commit). No write of the batch
    /// was acknowledged; every write in it receives this error with the same cause.
    #[error("a batch of {ops} writes failed to commit")]
    BatchFailed {
        /// How many writes the batch held.
        ops: usize,
        /// What redb reported, shared by every write of the batch.
        #[source]
        source: Arc<redb::Error>,
    },
    /// A session record did not encode, or a stored one did not decode as the session its key
    /// names.
    #[error(transparent)]
    Record(#[from] continuum_store::RecordCodecError),
    /// A read transaction failed (begin, table access or read).
    #[error("cannot read the documents from the database")]
    Read(#[source] redb::Error),
    /// The blocking task running a read panicked or was cancelled at shutdown.
    #[error("the read task did not finish")]
    ReadTask(#[source] tokio::task::JoinError),
    /// A stored document key does not end in a valid document name: the file was damaged or
    /// written by an incompatible version.
    #[error("the stored document name {name:?} is not valid")]
    DocKey {
        /// The name found in the key (invalid UTF-8 replaced).
        name: String,
        /// Why it is not a name.
        #[source]
        source: continuum_core::DocNameError,
    },
    /// A named version has metadata but no state: the file was damaged.
    #[error("version {id} has no stored state")]
    VersionStateMissing {
        /// The version's id.
        id: u64,
    },
    /// The writer thread could not be started.
    #[error("cannot start the writer thread")]
    Spawn(#[source] std::io::Error),
    /// The writer thread panicked; the store takes no more writes.
    #[error("the writer thread panicked")]
    WriterPanicked,
}
