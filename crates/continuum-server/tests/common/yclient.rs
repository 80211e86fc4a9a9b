//! A y-websocket client built on yrs over a real socket, for the sync tests.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message as WsMessage};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yrs::sync::awareness::AwarenessUpdateEntry;
use yrs::sync::{AwarenessUpdate, Message, SyncMessage};
use yrs::types::ToJson;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{Any, Doc, GetString, Map, ReadTxn, StateVector, Text, Transact, Update};

/// One client document and its socket.
pub struct YClient {
    pub doc: Doc,
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Bytes of sync step 2 and update payloads received.
    pub received_update_bytes: usize,
    /// The last durability ack count received.
    pub acked: u64,
    /// The last edge durability ack count received (type 101, from `continuum edge`).
    pub edge_acked: u64,
    /// Whether a sync step 2 has arrived.
    pub synced: bool,
    /// How the server closed the socket, once it did.
    pub closed: Option<Option<CloseFrame>>,
    /// Updates that arrived before one they depend on (the document then holds pending
    /// structs); a server that relays in order never causes one.
    pub out_of_order: usize,
    /// The awareness states received, by client id (a removal deletes the entry).
    pub awareness: HashMap<u64, String>,
}

impl YClient {
    /// Connects with `headers`; the error is the refused handshake (e.g. HTTP 401 or 403).
    pub async fn connect(
        addr: SocketAddr,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Self, tungstenite::Error> {
        Self::connect_with(Doc::new(), addr, path, headers).await
    }

    /// Connects an existing document (a reconnect keeps its state).
    pub async fn connect_with(
        doc: Doc,
        addr: SocketAddr,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Self, tungstenite::Error> {
        let mut request = format!("ws://{addr}{path}").into_client_request()?;
        for (name, value) in headers {
            request.headers_mut().insert(
                tungstenite::http::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                value.parse().expect("header value"),
            );
        }
        let (ws, _) =
            tokio::time::timeout(Duration::from_secs(10), tokio_tungstenite::connect_async(request))
                .await
                .expect("handshake within 10 s")?;
        Ok(Self {
            doc,
            ws,
            received_update_bytes: 0,
            acked: 0,
            edge_acked: 0,
            synced: false,
            closed: None,
            out_of_order: 0,
            awareness: HashMap::new(),
        })
    }

    async fn send(&mut self, message: Message) {
        self.ws.send(WsMessage::Binary(message.encode_v1().into())).await.expect("send");
    }

    /// Sends sync step 1 and waits for the server's sync step 2.
    pub async fn sync(&mut self) {
        let sv = self.doc.transact().state_vector();
        self.send(Message::Sync(SyncMessage::SyncStep1(sv))).await;
        self.pump_until(|client| client.synced, Duration::from_secs(10)).await;
    }

    /// Sets `key` in the root map `map` locally and sends the change as an update.
    pub async fn set(&mut self, map: &str, key: &str, value: impl Into<Any>) {
        let before = self.doc.transact().state_vector();
        {
            let root = self.doc.get_or_insert_map(map);
            let mut txn = self.doc.transact_mut();
            root.insert(&mut txn, key, value.into());
        }
        let update = self.doc.transact().encode_state_as_update_v1(&before);
        self.send(Message::Sync(SyncMessage::Update(update))).await;
    }

    /// Announces the awareness state `json` of client `client` at `clock` (`"null"` removes it).
    pub async fn announce(&mut self, client: u64, clock: u32, json: &str) {
        let entry = AwarenessUpdateEntry { clock, json: json.into() };
        let clients = [(yrs::ClientID::new(client), entry)].into_iter().collect();
        self.send(Message::Awareness(AwarenessUpdate { clients })).await;
    }

    /// Sends raw bytes as one binary message.
    pub async fn send_raw(&mut self, bytes: Vec<u8>) {
        self.ws.send(WsMessage::Binary(bytes.into())).await.expect("send");
    }

    /// The root map `map` as JSON.
    pub fn json(&self, map: &str) -> Value {
        let root = self.doc.get_or_insert_map(map);
        let txn = self.doc.transact();
        serde_json::to_value(root.to_json(&txn)).expect("json")
    }

    /// Appends `piece` to the root text `name` and sends the update.
    pub async fn append_text(&mut self, name: &str, piece: &str) {
        let before = self.doc.transact().state_vector();
        {
            let text = self.doc.get_or_insert_text(name);
            let mut txn = self.doc.transact_mut();
            text.push(&mut txn, piece);
        }
        let update = self.doc.transact().encode_state_as_update_v1(&before);
        self.send(Message::Sync(SyncMessage::Update(update))).await;
    }

    /// The text of root text `name`.
    pub fn text(&self, name: &str) -> String {
        let text = self.doc.get_or_insert_text(name);
        text.get_string(&self.doc.transact())
    }

    /// Handles one message from the server; `false` once the socket is closed.
    async fn handle_next(&mut self, within: Duration) -> bool {
        let next = match tokio::time::timeout(within, self.ws.next()).await {
            Err(_) => return true,
            Ok(next) => next,
        };
        match next {
            Some(Ok(WsMessage::Binary(bytes))) => {
                self.apply(&bytes).await;
                true
            }
            Some(Ok(WsMessage::Close(frame))) => {
                self.closed = Some(frame);
                false
            }
            Some(Ok(_)) => true,
            Some(Err(_)) | None => {
                self.closed.get_or_insert(None);
                false
            }
        }
    }

    async fn apply(&mut self, bytes: &[u8]) {
        if let Some(durable) = continuum_sync::decode_ack(bytes) {
            self.acked = durable;
            return;
        }
        if let [101, rest @ ..] = bytes {
            use yrs::encoding::read::Read as _;
            self.edge_acked = yrs::encoding::read::Cursor::new(rest).read_var().expect("an edge ack");
            return;
        }
        let message = Message::decode_v1(bytes).expect("a y-websocket message");
        match message {
            Message::Sync(SyncMessage::SyncStep1(sv)) => {
                let update = self.doc.transact().encode_state_as_update_v1(&sv);
                self.send(Message::Sync(SyncMessage::SyncStep2(update))).await;
            }
            Message::Sync(SyncMessage::SyncStep2(update)) => {
                self.received_update_bytes += update.len();
                self.apply_update(&update);
                self.synced = true;
            }
            Message::Sync(SyncMessage::Update(update)) => {
                self.received_update_bytes += update.len();
                self.apply_update(&update);
            }
            Message::Awareness(update) => {
                for (client, entry) in update.clients {
                    match entry.json.as_ref() {
                        "null" => self.awareness.remove(&client.get()),
                        json => self.awareness.insert(client.get(), json.to_owned()),
                    };
                }
            }
            _ => {}
        }
    }

    fn apply_update(&mut self, update: &[u8]) {
        let update = Update::decode_v1(update).expect("a valid update");
        let mut txn = self.doc.transact_mut();
        txn.apply_update(update).expect("applies");
        if txn.has_missing_updates() {
            self.out_of_order += 1;
        }
    }

    /// Processes messages until `done` holds or `limit` passes; returns whether it held.
    pub async fn pump_until(&mut self, done: impl Fn(&Self) -> bool, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while !done(self) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() || !self.handle_next(left.min(Duration::from_millis(50))).await && !done(self) {
                return done(self);
            }
        }
        true
    }

    /// Waits until the server closes the socket, up to `limit`; the close frame if it did.
    pub async fn wait_closed(&mut self, limit: Duration) -> Option<Option<CloseFrame>> {
        self.pump_until(|client| client.closed.is_some(), limit).await;
        self.closed.clone()
    }

    /// Closes the socket from this side.
    pub async fn close(mut self) -> Doc {
        let _ = self.ws.close(None).await;
        self.doc
    }

    /// The client's state vector.
    pub fn state_vector(&self) -> StateVector {
        self.doc.transact().state_vector()
    }
}
