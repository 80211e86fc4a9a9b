//! [`RedisStore`] as a [`DocStore`]: per document a family of keys tagged with its scope, so a
//! document and its scope's name set share a slot and every write is one script.
//!
//! The tag is the scope rather than the document so that a write can add the document's name to
//! the scope's set in the same atomic step: `doc_names` is then exact, and a refused write
//! creates nothing, on a cluster as on a single server. The cost is that one scope's documents
//! (one user's, or one session's) live on one node; the documents-per-scope limit bounds that.
//! Values are bytes end to end (bulk strings in, bulk strings out); nothing is re-encoded.

use async_trait::async_trait;
use continuum_core::{DocKey, DocName, Scope, Timestamp};
use continuum_store::docs::check_compaction;
use continuum_store::{DocStore, StoreError, StoredDoc, VersionMeta};

use crate::error::RedisStoreError;
use crate::scripts::SCRIPTS;
use crate::store::RedisStore;

#[async_trait]
impl DocStore for RedisStore {
    /// One `EVALSHA`: the snapshot, the updates and `last_seq` read atomically.
    async fn load(&self, key: &DocKey) -> Result<StoredDoc, StoreError> {
        let keys = self.keys().doc(key);
        let (last_seq, updates, snapshot): (String, Vec<Vec<u8>>, Option<Vec<u8>>) = SCRIPTS
            .doc_load
            .key(&keys.meta)
            .key(&keys.updates)
            .key(&keys.snapshot)
            .invoke_async(&mut self.connection())
            .await
            .map_err(RedisStoreError::command("doc_load"))?;
        let last_seq = parse_u64("doc_load", &last_seq)?;
        Ok(StoredDoc { snapshot, updates, last_seq })
    }

    /// One `EVALSHA`.
    async fn append(&self, key: &DocKey, update: Vec<u8>) -> Result<u64, StoreError> {
        let keys = self.keys().doc(key);
        SCRIPTS
            .doc_append
            .key(&keys.meta)
            .key(&keys.updates)
            .key(&keys.names)
            .arg(update)
            .arg(key.name.as_str())
            .invoke_async(&mut self.connection())
            .await
            .map_err(RedisStoreError::command("doc_append"))
    }

    /// One `EVALSHA`.
    async fn compact(&self, key: &DocKey, snapshot: Vec<u8>, through_seq: u64) -> Result<(), StoreError> {
        let keys = self.keys().doc(key);
        let reply: Vec<String> = SCRIPTS
            .doc_compact
            .key(&keys.meta)
            .key(&keys.updates)
            .key(&keys.snapshot)
            .key(&keys.names)
            .arg(snapshot)
            .arg(through_seq.to_string())
            .arg(key.name.as_str())
            .invoke_async(&mut self.connection())
            .await
            .map_err(RedisStoreError::command("doc_compact"))?;
        match reply.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["ok"] => Ok(()),
            ["refused", last_seq, compacted_through] => {
                let last_seq = parse_u64("doc_compact", last_seq)?;
                let compacted_through = parse_u64("doc_compact", compacted_through)?;
                // The script refused with the same rule; it names the reason.
                check_compaction(through_seq, last_seq, compacted_through)?;
                Err(RedisStoreError::unexpected("doc_compact", "refused a compaction the rule allows"))
            }
            other => Err(RedisStoreError::unexpected("doc_compact", format!("{other:?}"))),
        }
    }

    /// One `EVALSHA`.
    async fn save_version(
        &self,
        key: &DocKey,
        name: String,
        created_at: Timestamp,
        state: Vec<u8>,
    ) -> Result<VersionMeta, StoreError> {
        let keys = self.keys().doc(key);
        let id: u64 = SCRIPTS
            .doc_save_version
            .key(&keys.meta)
            .key(&keys.version_meta)
            .key(&keys.version_states)
            .key(&keys.names)
            .arg(created_at.as_millis())
            .arg(&name)
            .arg(state)
            .arg(key.name.as_str())
            .invoke_async(&mut self.connection())
            .await
            .map_err(RedisStoreError::command("doc_save_version"))?;
        Ok(VersionMeta { id, name, created_at })
    }

    /// One `HGETALL` of the version metadata (states are not read).
    async fn versions(&self, key: &DocKey) -> Result<Vec<VersionMeta>, StoreError> {
        let entries: Vec<(u64, Vec<u8>)> = redis::cmd("HGETALL")
            .arg(self.keys().doc(key).version_meta)
            .query_async(&mut self.connection())
            .await
            .map_err(RedisStoreError::command("HGETALL"))?;
        let mut versions =
            entries.into_iter().map(|(id, meta)| version_meta(id, &meta)).collect::<Result<Vec<_>, _>>()?;
        versions.sort_by_key(|meta| meta.id);
        Ok(versions)
    }

    /// One pipeline of two `HGET`s on the document's slot. A version is written once, metadata
    /// and state in one script, so the two reads agree.
    async fn version(&self, key: &DocKey, id: u64) -> Result<Option<(VersionMeta, Vec<u8>)>, StoreError> {
        let keys = self.keys().doc(key);
        let (meta, state): (Option<Vec<u8>>, Option<Vec<u8>>) = redis::pipe()
            .cmd("HGET")
            .arg(&keys.version_meta)
            .arg(id)
            .cmd("HGET")
            .arg(&keys.version_states)
            .arg(id)
            .query_async(&mut self.connection())
            .await
            .map_err(RedisStoreError::command("HGET"))?;
        match (meta, state) {
            (Some(meta), Some(state)) => Ok(Some((version_meta(id, &meta)?, state))),
            (None, _) => Ok(None),
            (Some(_), None) => Err(RedisStoreError::unexpected("HGET", format!("version {id} has no state"))),
        }
    }

    /// One `SMEMBERS`, sorted here.
    async fn doc_names(&self, scope: &Scope) -> Result<Vec<DocName>, StoreError> {
        let names: Vec<Vec<u8>> = redis::cmd("SMEMBERS")
            .arg(self.keys().doc_names(scope))
            .query_async(&mut self.connection())
            .await
            .map_err(RedisStoreError::command("SMEMBERS"))?;
        let mut names = names
            .iter()
            .map(|name| {
                let name = String::from_utf8_lossy(name);
                DocName::parse(&name).map_err(|source| {
                    StoreError::backend(RedisStoreError::DocName { name: name.into_owned(), source })
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        names.sort();
        Ok(names)
    }
}

/// A version's metadata from its stored form, `<created_at ms>:<name>`.
fn version_meta(id: u64, stored: &[u8]) -> Result<VersionMeta, StoreError> {
    let malformed = || RedisStoreError::unexpected("HGET", format!("malformed metadata of version {id}"));
    let colon = stored.iter().position(|&b| b == b':').ok_or_else(malformed)?;
    let created_at = std::str::from_utf8(&stored[..colon])
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map(Timestamp::from_millis)
        .ok_or_else(malformed)?;
    let name = String::from_utf8(stored[colon + 1..].to_vec()).map_err(|_| malformed())?;
    Ok(VersionMeta { id, name, created_at })
}

fn parse_u64(command: &'static str, text: &str) -> Result<u64, StoreError> {
    text.parse().map_err(|_| RedisStoreError::unexpected(command, format!("not a number: {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_metadata_keeps_colons_and_negative_times() {
        let meta = version_meta(3, "-5:a:b ✓".as_bytes()).unwrap();
        assert_eq!(meta, VersionMeta { id: 3, name: "a:b ✓".into(), created_at: Timestamp::from_millis(-5) });
        assert!(version_meta(1, b"no colon").is_err());
        assert!(version_meta(1, b"x:name").is_err());
    }
}
