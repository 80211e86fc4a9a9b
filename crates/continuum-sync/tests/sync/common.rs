//! What the scenarios share: a y-websocket client on a real yrs document, and a store wrapper
//! that gates, counts and fails calls (faults through the trait).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use continuum_core::{DocKey, DocName, ManualClock, Scope, Timestamp};
use continuum_store::{DocStore, MemoryDocStore, StoreError, StoredDoc, VersionMeta};
use continuum_sync::protocol::{self, Inbound};
use continuum_sync::{DocRegistry, LiveDoc, Peer, PeerOptions, SyncConfig, decode_ack};
use serde_json::Value;
use tokio::sync::watch;
use yrs::sync::Awareness;
use yrs::updates::decoder::Decode;
use yrs::{Doc, Map, ReadTxn, StateVector, Transact, TransactionMut, Update, WriteTxn};

/// How long a test waits for something that should happen at once.
pub const SOON: Duration = Duration::from_secs(5);
/// How long a test waits to be sure something does not happen.
pub const QUIET: Duration = Duration::from_millis(100);

pub fn key(name: &str) -> DocKey {
    DocKey { scope: Scope::parse("user:alice").unwrap(), name: DocName::parse(name).unwrap() }
}

pub fn registry(store: Arc<dyn DocStore>, config: SyncConfig) -> DocRegistry {
    DocRegistry::new(store, Arc::new(ManualClock::new(Timestamp::from_millis(1_700_000_000_000))), config)
}

/// A y-websocket client: its own yrs document and awareness, speaking the wire protocol.
pub struct Client {
    pub awareness: Awareness,
    /// The highest durability ack received.
    pub acked: u64,
    /// How many ack messages arrived.
    pub ack_messages: usize,
}

impl Client {
    pub fn new(client_id: u64) -> Self {
        Self { awareness: Awareness::new(Doc::with_client_id(client_id)), acked: 0, ack_messages: 0 }
    }

    pub fn doc(&self) -> &Doc {
        self.awareness.doc()
    }

    /// The document as the server would show it.
    pub fn json(&self) -> Value {
        continuum_sync::json::doc_to_json(&self.doc().transact())
    }

    pub fn step1(&self) -> Vec<u8> {
        protocol::sync_step1(self.doc().transact().state_vector())
    }

    /// Makes a change and returns the sync update message announcing it.
    pub fn edit(&self, change: impl FnOnce(&mut TransactionMut<'_>)) -> Vec<u8> {
        let mut txn = self.doc().transact_mut();
        change(&mut txn);
        protocol::update(txn.encode_update_v1())
    }

    /// Sets `form.<field>` and returns the update message.
    pub fn set(&self, field: &str, value: impl Into<yrs::Any>) -> Vec<u8> {
        let value = value.into();
        self.edit(|txn| {
            txn.get_or_insert_map("form").insert(txn, field, value);
        })
    }

    /// Handles one message from the server as y-websocket does; returns the replies.
    pub fn handle(&mut self, message: &[u8]) -> Vec<Vec<u8>> {
        if let Some(durable) = decode_ack(message) {
            assert!(durable >= self.acked, "acks are cumulative: {durable} after {}", self.acked);
            self.acked = durable;
            self.ack_messages += 1;
            return Vec::new();
        }
        let mut replies = Vec::new();
        for inbound in protocol::decode(message).expect("the server sends valid messages") {
            match inbound {
                Inbound::SyncStep1(sv) => {
                    replies.push(protocol::sync_step2(self.doc().transact().encode_state_as_update_v1(&sv)))
                }
                Inbound::SyncStep2(update) | Inbound::Update(update) => {
                    self.doc().transact_mut().apply_update(Update::decode_v1(&update).unwrap()).unwrap();
                }
                Inbound::Awareness(update) => self.awareness.apply_update(update).unwrap(),
                other => panic!("unexpected message from the server: {other:?}"),
            }
        }
        replies
    }

    /// The awareness message announcing this client's local state.
    pub fn announce(&mut self, state: Value) -> Vec<u8> {
        self.awareness.set_local_state(state).unwrap();
        let update = self.awareness.update_with_clients([self.awareness.client_id()]).unwrap();
        protocol::awareness(update)
    }
}

/// Connects a client as y-websocket does: the server's greeting (answered with the client's
/// step 2), then the client's step 1 (answered with the server's step 2).
pub async fn connect(doc: &Arc<LiveDoc>, client: &mut Client, options: PeerOptions) -> Peer {
    let mut peer = doc.connect(options);
    for message in peer.take_greeting() {
        for reply in client.handle(&message) {
            assert!(peer.receive(&reply).await.unwrap().is_empty());
        }
    }
    for reply in peer.receive(&client.step1()).await.unwrap() {
        assert!(client.handle(&reply).is_empty());
    }
    peer
}

/// Delivers everything queued for `peer` to `client` until nothing arrives for a moment.
pub async fn drain(peer: &mut Peer, client: &mut Client) -> usize {
    let mut delivered = 0;
    while let Ok(Some(message)) = tokio::time::timeout(QUIET, peer.next_outbound()).await {
        assert!(client.handle(&message).is_empty());
        delivered += 1;
    }
    delivered
}

/// Waits until the next outbound message arrives (failing after [`SOON`]).
pub async fn next(peer: &mut Peer) -> Option<Vec<u8>> {
    tokio::time::timeout(SOON, peer.next_outbound())
        .await
        .expect("a message within the deadline")
        .map(|message| message.to_vec())
}

/// The full state of a client's document.
pub fn full_state(doc: &Doc) -> Vec<u8> {
    doc.transact().encode_state_as_update_v1(&StateVector::default())
}

/// A [`MemoryDocStore`] whose appends can be held at a gate or made to fail, counting calls.
pub struct FaultyStore {
    pub inner: MemoryDocStore,
    gate: watch::Sender<bool>,
    pub fail_appends: AtomicBool,
    pub loads: AtomicUsize,
    pub appends_started: AtomicUsize,
    pub appends_done: AtomicUsize,
    pub compactions: AtomicUsize,
    pub load_delay: Duration,
}

impl FaultyStore {
    pub fn new() -> Arc<Self> {
        Self::with_load_delay(Duration::ZERO)
    }

    pub fn with_load_delay(load_delay: Duration) -> Arc<Self> {
        Arc::new(Self {
            inner: MemoryDocStore::new(),
            gate: watch::channel(true).0,
            fail_appends: AtomicBool::new(false),
            loads: AtomicUsize::new(0),
            appends_started: AtomicUsize::new(0),
            appends_done: AtomicUsize::new(0),
            compactions: AtomicUsize::new(0),
            load_delay,
        })
    }

    /// Holds every append until [`FaultyStore::open_gate`].
    pub fn close_gate(&self) {
        self.gate.send_replace(false);
    }

    pub fn open_gate(&self) {
        self.gate.send_replace(true);
    }

    pub async fn stored(&self, key: &DocKey) -> StoredDoc {
        self.inner.load(key).await.unwrap()
    }

    /// The document as the store holds it, loaded into a fresh yrs document.
    pub async fn stored_doc(&self, key: &DocKey) -> Doc {
        let stored = self.stored(key).await;
        let doc = Doc::new();
        let mut txn = doc.transact_mut();
        for update in stored.snapshot.iter().chain(&stored.updates) {
            txn.apply_update(Update::decode_v1(update).unwrap()).unwrap();
        }
        drop(txn);
        doc
    }
}

#[async_trait]
impl DocStore for FaultyStore {
    async fn load(&self, key: &DocKey) -> Result<StoredDoc, StoreError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.load_delay).await;
        self.inner.load(key).await
    }

    async fn append(&self, key: &DocKey, update: Vec<u8>) -> Result<u64, StoreError> {
        self.appends_started.fetch_add(1, Ordering::SeqCst);
        let mut gate = self.gate.subscribe();
        gate.wait_for(|open| *open).await.unwrap();
        if self.fail_appends.load(Ordering::SeqCst) {
            return Err(StoreError::backend(std::io::Error::other("disk on fire")));
        }
        let seq = self.inner.append(key, update).await?;
        self.appends_done.fetch_add(1, Ordering::SeqCst);
        Ok(seq)
    }

    async fn compact(&self, key: &DocKey, snapshot: Vec<u8>, through_seq: u64) -> Result<(), StoreError> {
        self.compactions.fetch_add(1, Ordering::SeqCst);
        self.inner.compact(key, snapshot, through_seq).await
    }

    async fn save_version(
        &self,
        key: &DocKey,
        name: String,
        created_at: Timestamp,
        state: Vec<u8>,
    ) -> Result<VersionMeta, StoreError> {
        self.inner.save_version(key, name, created_at, state).await
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
