//! What the other nodes announce, carried out on this node: their session events and sign-outs
//! to the local node, their document appends to the live documents, and a gap (notices may
//! have been missed) as a reset of the local node and a catch-up of every live document.

use std::sync::Arc;

use continuum_store::{Heard, Notice, SealedSessions};
use continuum_sync::DocRegistry;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::local::LocalNode;

/// Where heard notices take effect.
pub(crate) struct Listener {
    pub sealed: SealedSessions,
    pub registry: DocRegistry,
    pub node: Arc<dyn LocalNode>,
}

impl Listener {
    /// Carries out what `heard` (a [`continuum_store::Bus::subscribe`]r) hears until `cancel`
    /// fires.
    pub async fn run(self, mut heard: broadcast::Receiver<Heard>, cancel: CancellationToken) {
        loop {
            let next = tokio::select! {
                () = cancel.cancelled() => return,
                next = heard.recv() => next,
            };
            match next {
                Ok(Heard::Notice(notice)) => self.notice(&notice).await,
                Ok(Heard::Gap) | Err(broadcast::error::RecvError::Lagged(_)) => self.gap().await,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    async fn notice(&self, notice: &Notice) {
        match notice {
            Notice::Session(event) => self.node.session_event(event),
            Notice::SignedOutEverywhere { principal } => {
                self.sealed.invalidate(principal);
                self.node.signed_out(principal);
            }
            Notice::DocAppended { key, update, .. } => {
                if let Err(error) = self.registry.apply_durable(key, update.as_deref()).await {
                    tracing::warn!(doc = %key, %error, "merging another node's update failed");
                }
            }
            // For the session caches of the nodes that have one (`crate::session_cache`).
            Notice::SessionWritten { .. } | Notice::Heartbeat => {}
        }
    }

    async fn gap(&self) {
        tracing::info!("notices from other nodes may have been missed; live documents catch up");
        self.node.missed("events from other nodes may have been missed");
        self.registry.catch_up_all().await;
    }
}
