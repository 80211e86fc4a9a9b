//! [`RedisBus`]: the [`Bus`] of nodes sharing a Redis store, on Redis pub/sub.
//!
//! Every node publishes to one channel, `<prefix>bus:<db>` (pub/sub ignores databases, so the
//! database number keeps deployments on one server apart), and subscribes to it on a connection
//! of its own. On a cluster, `PUBLISH` through any node reaches the subscribers of every node,
//! so the subscription goes to the first seed node. A broken subscription is re-established
//! with backoff and reported as [`Heard::Gap`], since notices published meanwhile are lost.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use continuum_store::bus::{Inbox, encode};
use continuum_store::{Bus, Heard, Notice, StoreError};
use futures_util::StreamExt as _;
use tokio::sync::{broadcast, oneshot};
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::config::Target;
use crate::connection::redacted;
use crate::error::RedisStoreError;
use crate::store::RedisStore;

/// The longest text published: pub/sub has no small limit, but a document update larger than
/// this is left for the receivers to read from the store rather than copied to every node.
pub const MAX_NOTICE_BYTES: usize = 64 * 1024;

/// The longest wait between two attempts to subscribe again.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Nodes sharing a Redis store telling each other what changed. Stops listening when dropped.
pub struct RedisBus {
    store: RedisStore,
    channel: String,
    inbox: Arc<Inbox>,
    _listening: DropGuard,
}

impl RedisBus {
    /// Subscribes to the store's channel; returns once the subscription is in place, so every
    /// notice published after this returns is heard.
    pub async fn connect(store: &RedisStore) -> Result<Self, StoreError> {
        let config = store.config();
        let url = match config.target().map_err(StoreError::backend)? {
            Target::Single(url) => url,
            Target::Cluster(nodes) => nodes.into_iter().next().expect("a cluster URL names a node"),
        };
        let connect_error =
            |source| StoreError::backend(RedisStoreError::Connect { url: redacted(&url), source });
        let client = redis::Client::open(url.as_str()).map_err(connect_error)?;
        let db = client.get_connection_info().redis_settings().db();
        let channel = format!("{}bus:{db}", config.prefix);
        let inbox = Arc::new(Inbox::new(Inbox::random_origin()));
        let cancel = CancellationToken::new();
        let (subscribed, ready) = oneshot::channel();
        tokio::spawn(listen(client, channel.clone(), Arc::clone(&inbox), cancel.clone(), subscribed));
        match ready.await {
            Ok(Ok(())) => {}
            Ok(Err(source)) => return Err(connect_error(source)),
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
impl Bus for RedisBus {
    async fn publish(&self, notice: &Notice) -> Result<(), StoreError> {
        let text = encode(self.inbox.origin(), notice, MAX_NOTICE_BYTES);
        let command = redis::cmd("PUBLISH").arg(&self.channel).arg(text).to_owned();
        self.store.query::<i64>("PUBLISH", &command).await.map(drop)
    }

    fn subscribe(&self) -> broadcast::Receiver<Heard> {
        self.inbox.subscribe()
    }
}

/// Holds the subscription until cancelled: delivers each message to `inbox`, and after the
/// connection broke, subscribes again (backing off) and reports a gap. The first attempt's
/// outcome goes to `subscribed`.
async fn listen(
    client: redis::Client,
    channel: String,
    inbox: Arc<Inbox>,
    cancel: CancellationToken,
    subscribed: oneshot::Sender<redis::RedisResult<()>>,
) {
    let mut subscribed = Some(subscribed);
    let mut backoff = Duration::from_millis(100);
    loop {
        let attempt = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let outcome = tokio::select! {
            () = cancel.cancelled() => return,
            outcome = attempt => outcome,
        };
        match outcome {
            Ok(pubsub) => {
                match subscribed.take() {
                    Some(first) => {
                        let _ = first.send(Ok(()));
                    }
                    None => {
                        tracing::info!(%channel, "bus subscription re-established; catching up");
                        inbox.gap();
                    }
                }
                backoff = Duration::from_millis(100);
                let mut messages = pubsub.into_on_message();
                loop {
                    tokio::select! {
                        () = cancel.cancelled() => return,
                        message = messages.next() => match message {
                            Some(message) => match message.get_payload::<String>() {
                                Ok(payload) => inbox.deliver(&payload),
                                Err(error) => tracing::warn!(%error, "dropped a bus message that is not text"),
                            },
                            None => break,
                        },
                    }
                }
                tracing::warn!(%channel, "bus subscription lost; subscribing again");
            }
            Err(error) => {
                if let Some(first) = subscribed.take() {
                    let _ = first.send(Err(error));
                    return;
                }
                tracing::warn!(%channel, %error, "subscribing to the bus failed; retrying");
            }
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
