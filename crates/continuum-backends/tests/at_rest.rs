//! Encryption at rest through `open`, on the real stores: after a session with a distinctive
//! attribute and device and a document with distinctive text are written, neither appears in
//! the redb file, in Redis (`DUMP` of every key they live in) or in PostgreSQL's columns; a
//! store written before encryption was turned on keeps working; a missing key is a clear error.

use std::error::Error as _;
use std::path::Path;
use std::sync::Arc;

use continuum_backends::{OpenOptions, STORE_FILE, StoreConfig, open};
use continuum_core::{DataKey, DataKeyRing, Device, DocKey, NewSession, Principal, SystemClock};
use continuum_store::{Sessions, Stores};
use serde_json::json;

/// A random word, so tests sharing one Redis or PostgreSQL never meet.
fn unique(prefix: &str) -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    format!("{prefix}{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn ring() -> DataKeyRing {
    DataKeyRing::new(vec![DataKey::generate()]).unwrap()
}

fn encrypted(ring: &DataKeyRing) -> OpenOptions {
    OpenOptions { encryption: Some(ring.clone()), ..OpenOptions::default() }
}

/// What one test writes and then looks for in the raw store.
struct Marks {
    attribute: String,
    label: String,
    text: String,
    doc: DocKey,
}

impl Marks {
    fn new() -> Self {
        Self {
            attribute: unique("attr-value-"),
            label: unique("label-"),
            text: unique("doc-text-"),
            doc: DocKey::parse("user:alice", &unique("notes-")).unwrap(),
        }
    }

    fn all(&self) -> [&str; 3] {
        [&self.attribute, &self.label, &self.text]
    }
}

/// Writes a session and a document carrying `marks` (an update, a snapshot, a version), and
/// checks they read back whole; returns the session's id.
async fn write(stores: &Stores, marks: &Marks) -> continuum_core::SessionId {
    let sessions = Sessions::new(Arc::clone(&stores.sessions), Arc::new(SystemClock));
    let (record, token) = sessions
        .create(NewSession {
            principal: Some(Principal::parse("alice").unwrap()),
            device: Device { label: Some(marks.label.clone()), user_agent: Some("Agent/1".into()) },
            attributes: json!({"card": marks.attribute}).as_object().cloned().unwrap(),
            ..NewSession::default()
        })
        .await
        .unwrap();
    let valid = sessions.validate(&token).await.unwrap();
    assert_eq!(valid.attributes["card"], json!(marks.attribute));
    assert_eq!(valid.device.label.as_deref(), Some(marks.label.as_str()));
    let docs = &stores.docs;
    docs.append(&marks.doc, format!("update {}", marks.text).into_bytes()).await.unwrap();
    docs.append(&marks.doc, format!("more {}", marks.text).into_bytes()).await.unwrap();
    docs.compact(&marks.doc, format!("snapshot {}", marks.text).into_bytes(), 1).await.unwrap();
    let meta = docs
        .save_version(&marks.doc, "v".into(), record.created_at, format!("state {}", marks.text).into())
        .await
        .unwrap();
    let loaded = docs.load(&marks.doc).await.unwrap();
    assert_eq!(loaded.snapshot, Some(format!("snapshot {}", marks.text).into_bytes()));
    assert_eq!(loaded.updates, vec![format!("more {}", marks.text).into_bytes()]);
    assert_eq!(
        docs.version(&marks.doc, meta.id).await.unwrap().unwrap().1,
        format!("state {}", marks.text).into_bytes()
    );
    record.sid
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle.as_bytes())
}

async fn redb_bytes(stores: Stores, data: &Path) -> Vec<u8> {
    stores.sessions.close().await.unwrap();
    drop(stores);
    std::fs::read(data.join(STORE_FILE)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_redb_file_holds_no_attribute_device_or_document_text() {
    let dir = tempfile::tempdir().unwrap();
    let marks = Marks::new();
    let stores = open(&StoreConfig::Redb, dir.path(), encrypted(&ring())).await.unwrap();
    write(&stores, &marks).await;
    let file = redb_bytes(stores, dir.path()).await;
    assert!(contains(&file, "alice"), "the principal is plaintext (the check can see text)");
    for mark in marks.all() {
        assert!(!contains(&file, mark), "{mark} is in the redb file");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_encryption_the_same_search_finds_the_text() {
    // The byte search above would pass vacuously if the text were never written where it looks.
    let dir = tempfile::tempdir().unwrap();
    let marks = Marks::new();
    let stores = open(&StoreConfig::Redb, dir.path(), OpenOptions::default()).await.unwrap();
    write(&stores, &marks).await;
    let file = redb_bytes(stores, dir.path()).await;
    for mark in marks.all() {
        assert!(contains(&file, mark), "{mark} should be in a plaintext file");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_written_before_is_read_then_written_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let (before, after) = (Marks::new(), Marks::new());
    let plain = open(&StoreConfig::Redb, dir.path(), OpenOptions::default()).await.unwrap();
    let old_sid = write(&plain, &before).await;
    plain.sessions.close().await.unwrap();
    drop(plain);

    let keys = ring();
    let stores = open(&StoreConfig::Redb, dir.path(), encrypted(&keys)).await.unwrap();
    let old = stores.sessions.get(&old_sid).await.unwrap().unwrap();
    assert_eq!(old.attributes["card"], json!(before.attribute), "plaintext written before reads as it was");
    let old_doc = stores.docs.load(&before.doc).await.unwrap();
    assert_eq!(old_doc.updates, vec![format!("more {}", before.text).into_bytes()]);
    let new_sid = write(&stores, &after).await;
    stores.sessions.close().await.unwrap();
    drop(stores);

    let again = open(&StoreConfig::Redb, dir.path(), encrypted(&keys)).await.unwrap();
    assert_eq!(
        again.sessions.get(&old_sid).await.unwrap().unwrap().attributes["card"],
        json!(before.attribute)
    );
    assert_eq!(
        again.sessions.get(&new_sid).await.unwrap().unwrap().attributes["card"],
        json!(after.attribute)
    );
    let file = redb_bytes(again, dir.path()).await;
    for mark in after.all() {
        assert!(!contains(&file, mark), "{mark}, written encrypted, is in the file");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_key_is_a_clear_error_never_a_panic_or_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let marks = Marks::new();
    let stores = open(&StoreConfig::Redb, dir.path(), encrypted(&ring())).await.unwrap();
    let sid = write(&stores, &marks).await;
    stores.sessions.close().await.unwrap();
    drop(stores);

    let wrong = open(&StoreConfig::Redb, dir.path(), encrypted(&ring())).await.unwrap();
    let error = wrong.sessions.get(&sid).await.unwrap_err();
    let chain =
        format!("{error}: {}: {}", error.source().unwrap(), error.source().unwrap().source().unwrap());
    assert!(chain.contains(&format!("cannot decrypt the stored session {sid}")), "{chain}");
    assert!(chain.contains("which this node does not hold"), "{chain}");
    let error = wrong.docs.load(&marks.doc).await.unwrap_err();
    assert!(error.source().unwrap().to_string().contains("snapshot of document"), "{error:?}");
    wrong.sessions.close().await.unwrap();
}

fn redis_url() -> String {
    std::env::var("CONTINUUM_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_holds_no_attribute_device_or_document_text() {
    let url = redis_url();
    let marks = Marks::new();
    let stores =
        open(&StoreConfig::Redis(url.clone()), Path::new("unused"), encrypted(&ring())).await.unwrap();
    let sid = write(&stores, &marks).await;
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("*{}*", marks.doc.name)).query_async(&mut connection).await.unwrap();
    assert!(keys.len() >= 3, "the document's keys: {keys:?}");
    let session_keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("*{sid}*")).query_async(&mut connection).await.unwrap();
    assert_eq!(session_keys.len(), 1, "{session_keys:?}");
    keys.extend(session_keys);
    let mut seen_principal = false;
    for key in &keys {
        let dump: Vec<u8> = redis::cmd("DUMP").arg(key).query_async(&mut connection).await.unwrap();
        seen_principal |= contains(&dump, "alice");
        for mark in marks.all() {
            assert!(!contains(&dump, mark), "{mark} in Redis key {key}");
        }
    }
    assert!(seen_principal, "the dumps are readable (the principal is plaintext)");
    let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut connection).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_columns_hold_no_attribute_device_or_document_text() {
    let url = std::env::var("CONTINUUM_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let marks = Marks::new();
    let stores =
        open(&StoreConfig::Postgres(url.clone()), Path::new("unused"), encrypted(&ring())).await.unwrap();
    let sid = write(&stores, &marks).await;
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let row = client
        .query_one("SELECT record FROM sessions WHERE sid = $1", &[&sid.as_bytes().to_vec()])
        .await
        .unwrap();
    let record: Vec<u8> = row.get(0);
    assert!(contains(&record, "alice"));
    let mut columns = vec![record];
    for query in [
        "SELECT u.update FROM doc_updates u JOIN doc_meta m USING (storage_key) WHERE m.name = $1",
        "SELECT v.state FROM doc_versions v JOIN doc_meta m USING (storage_key) WHERE m.name = $1",
        "SELECT snapshot FROM doc_meta WHERE name = $1",
    ] {
        let rows = client.query(query, &[&marks.doc.name.to_string()]).await.unwrap();
        assert!(!rows.is_empty(), "{query}");
        columns.extend(rows.iter().map(|row| row.get::<_, Vec<u8>>(0)));
    }
    for column in &columns {
        for mark in marks.all() {
            assert!(!contains(column, mark), "{mark} in a PostgreSQL column");
        }
    }
}
