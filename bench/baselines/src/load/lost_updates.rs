//! Lost updates under concurrent writers: `writers` connections each set their own distinct keys
//! (`w<i>_<n>` for `n` in `0..writes`) of ONE shared session, one patch at a time and all at
//! once; then the session is read back and every acknowledged key that is missing is a lost
//! update.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use tokio::task::JoinSet;

use super::closed_loop::{answer, send};
use super::system::System;

/// What the writers did and what the session holds afterwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LostUpdates {
    /// Concurrent writers.
    pub writers: usize,
    /// Patches each writer sent.
    pub writes: usize,
    /// Patches answered 2xx.
    pub acknowledged: usize,
    /// Patches answered otherwise (or not at all).
    pub failed: usize,
    /// `failed` by status code, or `io` when no answer came.
    pub failed_by: BTreeMap<String, usize>,
    /// Acknowledged keys missing from the session read back afterwards: lost updates.
    pub lost: usize,
}

/// Why the count could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LostUpdatesError {
    /// The shared session could not be created.
    #[error("{0}: the shared session could not be created")]
    Login(String),
    /// The session could not be read back.
    #[error("{0}: the session could not be read back")]
    ReadBack(String),
}

/// The key writer `writer` sets in its `n`th patch.
pub fn key(writer: usize, n: usize) -> String {
    format!("w{writer}_{n}")
}

/// Runs the writers against `system` and counts the lost updates.
pub async fn run(system: &System, writers: usize, writes: usize) -> Result<LostUpdates, LostUpdatesError> {
    let mut connection = None;
    let handle = answer(&mut connection, system, system.login("compare-shared"))
        .await
        .and_then(|response| system.handle_from(&response))
        .ok_or_else(|| LostUpdatesError::Login(system.name.clone()))?;
    let mut tasks = JoinSet::new();
    for writer in 0..writers {
        let (system, handle) = (system.clone(), handle.clone());
        tasks.spawn(async move {
            let (mut connection, mut acknowledged, mut failed_by) = (None, Vec::new(), BTreeMap::new());
            // Open first, so that all writers start together rather than one per connect.
            let _ = send(
                &mut connection,
                &system,
                system.operation(super::Operation::Hello, &handle, &Map::new()),
            )
            .await;
            for n in 0..writes {
                let mut patch = Map::new();
                patch.insert(key(writer, n), Value::from(n));
                let status = send(&mut connection, &system, system.patch(&handle, &patch)).await;
                match status {
                    Some(status) if (200..300).contains(&status) => acknowledged.push(key(writer, n)),
                    Some(status) => *failed_by.entry(status.to_string()).or_insert(0) += 1,
                    None => *failed_by.entry("io".to_owned()).or_insert(0) += 1,
                }
            }
            (acknowledged, failed_by)
        });
    }
    let (mut acknowledged, mut failed_by) = (Vec::new(), BTreeMap::new());
    for (keys, failures) in tasks.join_all().await {
        acknowledged.extend(keys);
        for (kind, count) in failures {
            *failed_by.entry(kind).or_insert(0) += count;
        }
    }
    let keys = answer(&mut connection, system, system.read_back(&handle))
        .await
        .and_then(|response| system.keys_from(&response))
        .ok_or_else(|| LostUpdatesError::ReadBack(system.name.clone()))?;
    Ok(LostUpdates {
        writers,
        writes,
        acknowledged: acknowledged.len(),
        failed: writers * writes - acknowledged.len(),
        failed_by,
        lost: acknowledged.iter().filter(|key| !keys.contains_key(key.as_str())).count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_per_writer_and_write() {
        assert_eq!(key(3, 17), "w3_17");
        assert_ne!(key(1, 11), key(11, 1));
    }
}
