//! [`PostgresBus`]: the [`Bus`] of nodes sharing a PostgreSQL store, on `LISTEN`/`NOTIFY`.
//!
//! Every node notifies one channel per schema (`continuum_bus`, or `continuum_bus_<schema>`,
//! cut to PostgreSQL's 63-byte identifiers) through its pool, one `SELECT pg_notify(…)` each,
//! and listens on a connection of its own. `NOTIFY` payloads are text under 8000 bytes, so a
//! document update that would not fit is announced without its bytes and the receivers read the
//! store. A broken listening connection is reopened with backoff and reported as
//! [`Heard::Gap`], since notifications sent meanwhile are lost.

use std::sync::Arc;

use async_trait::async_trait;
use continuum_store::bus::{Inbox, Subscription, encode, keep_listening};
use continuum_store::{Bus, Heard, Notice, StoreError};
use futures_util::StreamExt as _;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_postgres::{AsyncMessage, NoTls};
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::config::PostgresConfig;
use crate::error::PostgresStoreError;
use crate::pool;
use crate::store::PostgresStore;

/// The longest notice text sent: under `NOTIFY`'s limit of 8000 bytes.
pub const MAX_NOTICE_BYTES: usize = 7900;

/// The statement that publishes.
const NOTIFY: &str = "SELECT pg_notify($1, $2)";

/// The statements the pool prepares for the bus.
pub(crate) const STATEMENTS: &[&str] = &[NOTIFY];

/// Nodes sharing a PostgreSQL store telling each other what changed. Stops listening when
/// dropped.
pub struct PostgresBus {
    store: PostgresStore,
    channel: String,
    inbox: Arc<Inbox>,
    _listening: DropGuard,
}

/// The channel of the nodes using `schema`.
pub fn channel_name(schema: Option<&str>) -> String {
    let mut name = match schema {
        None => "continuum_bus".to_owned(),
        Some(schema) => format!("continuum_bus_{schema}"),
    };
    // Schema names are ASCII (see `PostgresConfig::with_schema`), so this cuts on a character.
    name.truncate(63);
    name
}

impl PostgresBus {
    /// Listens on the channel of `config`'s schema, publishing through `store` (connected with
    /// the same `config`); returns once listening, so every notice published after this returns
    /// is heard.
    pub async fn connect(config: &PostgresConfig, store: &PostgresStore) -> Result<Self, StoreError> {
        let channel = channel_name(config.schema.as_deref());
        let mut settings = config.connection_settings();
        settings.application_name(format!("continuum bus {channel}"));
        let inbox = Arc::new(Inbox::new(Inbox::random_origin()));
        let cancel = CancellationToken::new();
        let (listening, ready) = oneshot::channel();
        tokio::spawn(listen(settings, channel.clone(), Arc::clone(&inbox), cancel.clone(), listening));
        match ready.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(StoreError::backend(PostgresStoreError::Connect(error))),
            Err(_) => return Err(StoreError::Closed),
        }
        Ok(Self { store: store.clone(), channel, inbox, _listening: cancel.drop_guard() })
    }

    /// The channel the nodes share.
    pub fn channel(&self) -> &str {
        &self.channel
    }
}

#[async_trait]
impl Bus for PostgresBus {
    async fn publish(&self, notice: &Notice) -> Result<(), StoreError> {
        let text = encode(self.inbox.origin(), notice, MAX_NOTICE_BYTES);
        pool::query(self.store.pool(), "publish", NOTIFY, &[&self.channel, &text])
            .await
            .map(drop)
            .map_err(StoreError::backend)
    }

    fn subscribe(&self) -> broadcast::Receiver<Heard> {
        self.inbox.subscribe()
    }
}

/// A live `LISTEN` connection: the client (dropping it ends the connection), the task that
/// drives the connection, and the messages it read.
struct Listening {
    channel: String,
    client: tokio_postgres::Client,
    driver: tokio::task::JoinHandle<()>,
    messages: mpsc::UnboundedReceiver<Result<AsyncMessage, tokio_postgres::Error>>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

#[async_trait]
impl Subscription for Listening {
    async fn next(&mut self) -> Option<String> {
        let channel = &self.channel;
        loop {
            match self.messages.recv().await {
                Some(Ok(AsyncMessage::Notification(notification))) => {
                    return Some(notification.payload().to_owned());
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    tracing::warn!(%channel, %error, "bus listener connection failed");
                    return None;
                }
                None => return None,
            }
        }
    }
}

/// Connects and sends `LISTEN`; the connection is driven by a task of its own.
async fn connect_and_listen(
    settings: &tokio_postgres::Config,
    channel: &str,
) -> Result<Listening, tokio_postgres::Error> {
    let (client, mut connection) = settings.connect(NoTls).await?;
    // The connection must be driven for LISTEN to complete; its messages are read by `next`.
    let (to_reader, messages) = mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut stream = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = stream.next().await {
            if to_reader.send(message).is_err() {
                break;
            }
        }
    });
    let listening = Listening { channel: channel.to_owned(), client, driver, messages };
    // Identifiers made by `channel_name` need no quoting beyond the double quotes.
    listening.client.batch_execute(&format!("LISTEN \"{channel}\"")).await?;
    Ok(listening)
}

/// Listens until cancelled (see [`keep_listening`]); the first attempt's outcome goes to
/// `listening`.
async fn listen(
    settings: tokio_postgres::Config,
    channel: String,
    inbox: Arc<Inbox>,
    cancel: CancellationToken,
    listening: oneshot::Sender<Result<(), tokio_postgres::Error>>,
) {
    let subscribe = || connect_and_listen(&settings, &channel);
    tokio::select! {
        () = cancel.cancelled() => {}
        () = keep_listening(&channel, &inbox, listening, subscribe) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_per_schema_and_fit_an_identifier() {
        assert_eq!(channel_name(None), "continuum_bus");
        assert_eq!(channel_name(Some("tenant_a")), "continuum_bus_tenant_a");
        assert_eq!(channel_name(Some(&"a".repeat(63))).len(), 63);
    }
}
