//! [`PostgresBus`]: the [`Bus`] of nodes sharing a PostgreSQL store, on `LISTEN`/`NOTIFY`.
//!
//! Every node notifies one channel per schema (`continuum_bus`, or `continuum_bus_<schema>`,
//! cut to PostgreSQL's 63-byte identifiers) through its pool, one `SELECT pg_notify(…)` each,
//! and listens on a connection of its own. `NOTIFY` payloads are text under 8000 bytes, so a
//! document update that would not fit is announced without its bytes and the receivers read the
//! store. A broken listening connection is reopened with backoff and reported as
//! [`Heard::Gap`], since notifications sent meanwhile are lost.
//!
//! The listening connection's driver hands what it reads to the reader through a queue of
//! [`LISTEN_CAPACITY`] messages. The reader only decodes and fans out, so the queue fills only
//! when the reader's task is starved; then the connection is dropped rather than left unread
//! (a listener that stops reading holds back PostgreSQL's notification queue, which every node
//! of the deployment shares), and reopened: subscribers hear a gap and reconcile with the store.
//!
//! What travels on the bus, and what a node does with it, is `continuum-cluster`'s relay.

use std::sync::Arc;

use async_trait::async_trait;
use continuum_store::bus::{Inbox, Subscription, encode, keep_listening};
use continuum_store::{Bus, Heard, Notice, StoreError};
use futures_util::{Stream, StreamExt as _};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_postgres::{AsyncMessage, NoTls};
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::config::PostgresConfig;
use crate::error::PostgresStoreError;
use crate::pool;
use crate::store::PostgresStore;

/// The longest notice text sent: under `NOTIFY`'s limit of 8000 bytes.
pub const MAX_NOTICE_BYTES: usize = 7900;

/// How many messages the listening connection's driver holds for the reader. Past it, the
/// connection is treated as broken: dropped, reopened, and reported as a gap (the module doc
/// says why).
pub const LISTEN_CAPACITY: usize = 1024;

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
    messages: mpsc::Receiver<Result<AsyncMessage, tokio_postgres::Error>>,
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

/// Why a driver stopped forwarding.
#[derive(Debug, PartialEq, Eq)]
enum Forwarded {
    /// The connection ended.
    Ended,
    /// The reader went away.
    ReaderGone,
    /// The reader fell [`LISTEN_CAPACITY`] messages behind.
    Overflowed,
}

/// Hands every message of `messages` to the reader until the connection ends, the reader goes
/// away, or the reader's queue is full. It never waits for room: the connection must keep being
/// read, so a full queue ends the forwarding, and dropping the connection then makes the reader
/// see it lost (after the messages already queued) and subscribe again, announcing a gap.
async fn forward<M>(mut messages: impl Stream<Item = M> + Unpin, to_reader: mpsc::Sender<M>) -> Forwarded {
    while let Some(message) = messages.next().await {
        match to_reader.try_send(message) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => return Forwarded::Overflowed,
            Err(mpsc::error::TrySendError::Closed(_)) => return Forwarded::ReaderGone,
        }
    }
    Forwarded::Ended
}

/// Connects and sends `LISTEN`; the connection is driven by a task of its own, which queues at
/// most `capacity` messages for the reader.
async fn connect_and_listen(
    settings: &tokio_postgres::Config,
    channel: &str,
    capacity: usize,
) -> Result<Listening, tokio_postgres::Error> {
    let (client, mut connection) = settings.connect(NoTls).await?;
    // The connection must be driven for LISTEN to complete; its messages are read by `next`.
    let (to_reader, messages) = mpsc::channel(capacity.max(1));
    let name = channel.to_owned();
    let driver = tokio::spawn(async move {
        let stream = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        if forward(stream, to_reader).await == Forwarded::Overflowed {
            tracing::warn!(channel = %name, capacity, "bus listener fell behind; reconnecting");
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
    let subscribe = || connect_and_listen(&settings, &channel, LISTEN_CAPACITY);
    tokio::select! {
        () = cancel.cancelled() => {}
        () = keep_listening(&channel, &inbox, listening, subscribe) => {}
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use continuum_core::Principal;

    use super::*;

    #[tokio::test]
    async fn forwarding_stops_when_the_reader_is_full_or_gone_and_when_the_connection_ends() {
        let (to_reader, mut reader) = mpsc::channel(4);
        let forwarded = forward(futures_util::stream::iter(0..10), to_reader).await;
        assert_eq!(forwarded, Forwarded::Overflowed);
        let mut got = Vec::new();
        while let Some(message) = reader.recv().await {
            got.push(message);
        }
        assert_eq!(got, [0, 1, 2, 3], "what was queued is read, then the connection is lost");

        let (to_reader, reader) = mpsc::channel(4);
        drop(reader);
        assert_eq!(forward(futures_util::stream::iter(0..10), to_reader).await, Forwarded::ReaderGone);
        let (to_reader, _reader) = mpsc::channel(4);
        assert_eq!(forward(futures_util::stream::iter(0..3), to_reader).await, Forwarded::Ended);
    }

    fn signed_out(n: usize) -> Notice {
        Notice::SignedOutEverywhere { principal: Principal::parse(&format!("p{n}")).unwrap() }
    }

    async fn next(heard: &mut broadcast::Receiver<Heard>) -> Heard {
        tokio::time::timeout(Duration::from_secs(10), heard.recv()).await.expect("in time").expect("open")
    }

    /// On the test server: a listener whose queue holds 4 messages is sent 20 before its reader
    /// starts; the reader hears the 4, then (the connection dropped and reopened) a gap, then
    /// what is sent after.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_listener_that_falls_behind_reconnects_and_reports_a_gap() {
        let url = std::env::var("CONTINUUM_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let settings: tokio_postgres::Config = url.parse().expect("test URL");
        let channel = format!("continuum_bus_test_{:016x}", Inbox::random_origin());
        let (notifier, connection) = settings.connect(NoTls).await.expect("connect to the test server");
        tokio::spawn(connection);
        let notifier = Arc::new(notifier);
        let notify = {
            let (notifier, channel) = (Arc::clone(&notifier), channel.clone());
            move |n: usize| {
                let (notifier, channel) = (Arc::clone(&notifier), channel.clone());
                async move {
                    let text = encode(2, &signed_out(n), MAX_NOTICE_BYTES);
                    notifier.execute(NOTIFY, &[&channel, &text]).await.map(drop)
                }
            }
        };
        let inbox = Arc::new(Inbox::new(1));
        let mut heard = inbox.subscribe();
        let (ready, outcome) = oneshot::channel();
        let attempts = Arc::new(AtomicUsize::new(0));
        let listening = {
            let (inbox, notify) = (Arc::clone(&inbox), notify.clone());
            tokio::spawn(async move {
                let subscribe = || {
                    let attempt = attempts.fetch_add(1, Ordering::SeqCst);
                    let (settings, channel, notify) = (settings.clone(), channel.clone(), notify.clone());
                    async move {
                        if attempt > 0 {
                            return connect_and_listen(&settings, &channel, LISTEN_CAPACITY).await;
                        }
                        let listening = connect_and_listen(&settings, &channel, 4).await?;
                        for n in 0..20 {
                            notify(n).await?;
                        }
                        while !listening.driver.is_finished() {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                        Ok(listening)
                    }
                };
                keep_listening("test", &inbox, ready, subscribe).await;
            })
        };
        outcome.await.unwrap().expect("listening");
        for n in 0..4 {
            assert_eq!(next(&mut heard).await, Heard::Notice(signed_out(n).into()));
        }
        assert_eq!(next(&mut heard).await, Heard::Gap, "the dropped notifications are a gap");
        notify(99).await.unwrap();
        assert_eq!(next(&mut heard).await, Heard::Notice(signed_out(99).into()));
        listening.abort();
    }

    #[test]
    fn channels_are_per_schema_and_fit_an_identifier() {
        assert_eq!(channel_name(None), "continuum_bus");
        assert_eq!(channel_name(Some("tenant_a")), "continuum_bus_tenant_a");
        assert_eq!(channel_name(Some(&"a".repeat(63))).len(), 63);
    }
}
