//! What comes down from the tier above (an edge's connection to its origin): applied and sent
//! to every peer, stored as from upstream (never as this node's own change); read-only peers;
//! the hook told of peers coming and going.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use continuum_core::{DocKey, DocName, Scope, Timestamp};
use continuum_store::{DocStore, MemoryDocStore, StoreError, StoredDoc, VersionMeta};
use continuum_sync::{PeerOptions, PeersHook, SyncConfig, SyncError, protocol};
use yrs::{ReadTxn, StateVector, Transact};

use crate::common::*;

/// The memory store, counting which append each update came through.
#[derive(Default)]
struct Counting {
    inner: MemoryDocStore,
    own: AtomicUsize,
    from_upstream: AtomicUsize,
}

#[async_trait]
impl DocStore for Counting {
    async fn load(&self, key: &DocKey) -> Result<StoredDoc, StoreError> {
        self.inner.load(key).await
    }
    async fn append(&self, key: &DocKey, update: Vec<u8>) -> Result<u64, StoreError> {
        self.own.fetch_add(1, Ordering::SeqCst);
        self.inner.append(key, update).await
    }
    async fn append_from_upstream(&self, key: &DocKey, update: Vec<u8>) -> Result<u64, StoreError> {
        self.from_upstream.fetch_add(1, Ordering::SeqCst);
        self.inner.append(key, update).await
    }
    async fn compact(&self, key: &DocKey, snapshot: Vec<u8>, through: u64) -> Result<(), StoreError> {
        self.inner.compact(key, snapshot, through).await
    }
    async fn save_version(
        &self,
        key: &DocKey,
        name: String,
        at: Timestamp,
        state: Vec<u8>,
    ) -> Result<VersionMeta, StoreError> {
        self.inner.save_version(key, name, at, state).await
    }
    async fn versions(&self, key: &DocKey) -> Result<Vec<VersionMeta>, StoreError> {
        self.inner.versions(key).await
    }
    async fn version(&self, key: &DocKey, id: u64) -> Result<Option<(VersionMeta, Vec<u8>)>, StoreError> {
        self.inner.version(key, id).await
    }
    async fn doc_names(&self, scope: &Scope) -> Result<Vec<DocName>, StoreError> {
        self.inner.doc_names(scope).await
    }
}

/// The Yjs update inside an update message.
fn payload(message: &[u8]) -> Vec<u8> {
    match protocol::decode(message).unwrap().as_slice() {
        [protocol::Inbound::Update(update)] => update.clone(),
        other => panic!("not one update: {other:?}"),
    }
}

#[tokio::test]
async fn an_update_from_upstream_reaches_every_peer_and_is_stored_as_from_upstream_once() {
    let store = Arc::new(Counting::default());
    let registry = registry(store.clone(), SyncConfig::default());
    let doc = registry.open(&key("form")).await.unwrap();
    let (mut alice, mut bob) = (Client::new(1), Client::new(2));
    let mut alice_peer = connect(&doc, &mut alice, PeerOptions::default()).await;
    let mut bob_peer = connect(&doc, &mut bob, PeerOptions::default()).await;

    let origin = Client::new(9);
    let update = payload(&origin.set("name", "from the origin"));
    assert!(doc.apply_upstream(&update).await.unwrap(), "new to the document");
    for (peer, client) in [(&mut alice_peer, &mut alice), (&mut bob_peer, &mut bob)] {
        next(peer).await.map(|message| client.handle(&message)).unwrap();
        assert_eq!(client.json()["form"]["name"], "from the origin", "every peer gets it");
    }
    doc.flush().await.unwrap();
    assert_eq!(store.from_upstream.load(Ordering::SeqCst), 1);
    assert_eq!(store.own.load(Ordering::SeqCst), 0, "not stored as this node's own change");
    assert_eq!(registry.metrics().updates_persisted(), 0, "nor counted as one");

    // The origin relays back what it already had from here: nothing changes, nothing is sent
    // or stored.
    assert!(!doc.apply_upstream(&update).await.unwrap());
    let own = alice.doc().transact().encode_state_as_update_v1(&StateVector::default());
    assert!(!doc.apply_upstream(&own).await.unwrap(), "alice's own edits are in the document");
    assert_eq!(drain(&mut alice_peer, &mut alice).await + drain(&mut bob_peer, &mut bob).await, 0);
    doc.flush().await.unwrap();
    assert_eq!(store.from_upstream.load(Ordering::SeqCst), 1);

    // A peer's own change is still its own; bad bytes are refused.
    alice_peer.receive(&alice.set("step", 2)).await.unwrap();
    doc.flush().await.unwrap();
    assert_eq!(store.own.load(Ordering::SeqCst), 1);
    assert!(matches!(doc.apply_upstream(&[1, 2, 3, 200]).await, Err(SyncError::Malformed(_))));
    assert_eq!(doc.to_json()["form"]["step"], 2);
    drop((alice_peer, bob_peer, doc));
    registry.shutdown().await;
    let stored = store.load(&key("form")).await.unwrap();
    assert_eq!(stored.last_seq, 2, "one append from upstream, one of alice's");
}

#[tokio::test]
async fn a_read_only_peer_reads_and_changes_nothing() {
    let registry = registry(Arc::new(MemoryDocStore::new()), SyncConfig::default());
    let doc = registry.open(&key("form")).await.unwrap();
    let mut writer = Client::new(1);
    let mut writer_peer = connect(&doc, &mut writer, PeerOptions::default()).await;
    writer_peer.receive(&writer.set("name", "Alice")).await.unwrap();

    let mut reader = Client::new(2);
    let reader_edit = reader.set("name", "the reader");
    let mut reader_peer = doc.connect(PeerOptions { read_only: true, ..PeerOptions::default() });
    for message in reader_peer.take_greeting() {
        for reply in reader.handle(&message) {
            // Its sync step 2 carries its edit: ignored, not refused.
            assert!(reader_peer.receive(&reply).await.unwrap().is_empty());
        }
    }
    for reply in reader_peer.receive(&reader.step1()).await.unwrap() {
        reader.handle(&reply);
    }
    assert_eq!(doc.to_json()["form"]["name"], "Alice", "the reader's step 2 changed nothing");
    assert!(matches!(reader_peer.receive(&reader_edit).await, Err(SyncError::ReadOnly)));
    assert_eq!(doc.to_json()["form"]["name"], "Alice");
    assert_eq!(drain(&mut writer_peer, &mut writer).await, 0, "nothing of the reader's was sent");

    writer_peer.receive(&writer.set("step", 3)).await.unwrap();
    next(&mut reader_peer).await.map(|message| reader.handle(&message)).unwrap();
    assert_eq!(reader.json()["form"]["step"], 3, "it still reads");
}

#[tokio::test]
async fn the_peers_hook_hears_each_peer_come_and_go() {
    let registry = registry(Arc::new(MemoryDocStore::new()), SyncConfig::default());
    let heard: Arc<Mutex<Vec<(DocKey, usize)>>> = Arc::default();
    let told = Arc::clone(&heard);
    let hook: PeersHook =
        Arc::new(move |doc| told.lock().unwrap().push((doc.key().clone(), doc.peer_count())));
    registry.on_peers(hook);
    let doc = registry.open(&key("form")).await.unwrap();
    let one = doc.connect(PeerOptions::default());
    let two = doc.connect(PeerOptions::default());
    drop(one);
    drop(two);
    let counts: Vec<usize> = heard.lock().unwrap().iter().map(|(_, count)| *count).collect();
    assert_eq!(counts, [1, 2, 1, 0]);
    assert!(heard.lock().unwrap().iter().all(|(heard, _)| *heard == key("form")));
}
