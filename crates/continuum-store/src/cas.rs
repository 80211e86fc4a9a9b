//! The compare-and-swap rules every store applies to its writes, as pure functions.

use continuum_core::{SessionRecord, Status, Timestamp};

use crate::store::StoreError;

/// Checks an insert against what the store holds under the same id.
pub fn check_insert(current: Option<&SessionRecord>) -> Result<(), StoreError> {
    match current {
        Some(_) => Err(StoreError::AlreadyExists),
        None => Ok(()),
    }
}

/// Checks a replace based on `expected_version` against what the store holds.
pub fn check_replace(
    current: Option<&SessionRecord>,
    expected_version: u64,
    next: &SessionRecord,
) -> Result<(), StoreError> {
    let current = current.ok_or(StoreError::NotFound)?;
    if current.version != expected_version {
        return Err(StoreError::VersionConflict { expected: expected_version, actual: current.version });
    }
    if next.sid != current.sid {
        return Err(StoreError::InvalidWrite("a replace cannot change the session id"));
    }
    if next.principal != current.principal {
        return Err(StoreError::InvalidWrite("a replace cannot change the principal"));
    }
    if next.version <= expected_version {
        return Err(StoreError::InvalidWrite("a replace must increase the version"));
    }
    Ok(())
}

/// The record after a touch at `at`, or `None` when the touch changes nothing (a tombstone, or
/// `at` not later than the stored `last_seen_at`).
pub fn touched(current: &SessionRecord, at: Timestamp) -> Option<SessionRecord> {
    if current.status != Status::Active || at <= current.last_seen_at {
        return None;
    }
    let mut next = current.clone();
    next.last_seen_at = at;
    Some(next)
}
