//! [`RedisBus`]: the [`Bus`] of nodes sharing a Redis store, on Redis pub/sub.
//!
//! Every node publishes to one channel, `<prefix>bus:<db>` (pub/sub ignores databases, so the
//! database number keeps deployments on one server apart), and subscribes to it on a connection
//! of its own. On a cluster, `PUBLISH` through any node reaches the subscribers of every node,
//! so the subscription goes to the first seed node. A broken subscription is re-established
//! with backoff and reported as [`Heard::Gap`], since notices published meanwhile are lost.

use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use continuum_store::bus::{Inbox, Subscription, encode, keep_listening};
use continuum_store::{Bus, Heard, Notice, StoreError};
use futures_util::{Stream, StreamExt as _};
use tokio::sync::{broadcast, oneshot};
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::config::Target;
use crate::connection::redacted;
use crate::error::RedisStoreError;
use crate::store::RedisStore;

/// The longest text published: pub/sub has no small limit, but a document update larger than
/// this is left for the receivers to read from the store rather than copied to every node.
pub const MAX_NOTICE_BYTES: usize = 64 * 1024;

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

/// A live pub/sub subscription's messages.
struct PubSub(Pin<Box<dyn Stream<Item = redis::Msg> + Send>>);

#[async_trait]
impl Subscription for PubSub {
    async fn next(&mut self) -> Option<String> {
        loop {
            match self.0.next().await?.get_payload::<String>() {
                Ok(payload) => return Some(payload),
                Err(error) => tracing::warn!(%error, "dropped a bus message that is not text"),
            }
        }
    }
}

/// Holds the subscription until cancelled (see [`keep_listening`]); the first attempt's
/// outcome goes to `subscribed`.
async fn listen(
    client: redis::Client,
    channel: String,
    inbox: Arc<Inbox>,
    cancel: CancellationToken,
    subscribed: oneshot::Sender<redis::RedisResult<()>>,
) {
    let subscribe = || async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(&channel).await?;
        Ok::<_, redis::RedisError>(PubSub(Box::pin(pubsub.into_on_message())))
    };
    tokio::select! {
        () = cancel.cancelled() => {}
        () = keep_listening(&channel, &inbox, subscribed, subscribe) => {}
    }
}
