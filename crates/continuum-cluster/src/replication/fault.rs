//! [`Cut`]: a network fault a node can be given — peers it cannot reach — for partition tests.
//! Gossip to and from a cut address is dropped (chitchat's [`Transport`] seam: [`CutTransport`]
//! wraps the UDP transport) and replication calls to it fail as unanswered, as a firewall
//! dropping packets would make them. `None` in production.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use chitchat::ChitchatEnvelope;
use chitchat::transport::{RecvOutcome, SendOutcome, Socket, Transport, UdpTransport};

/// The peer addresses (their `--cluster-listen`) a node cannot reach, changed while it runs.
#[derive(Debug, Default)]
pub struct Cut {
    unreachable: RwLock<HashSet<SocketAddr>>,
}

impl Cut {
    /// Nothing cut yet.
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Cuts this node off from `peers` (in both directions for this node).
    pub fn sever(&self, peers: impl IntoIterator<Item = SocketAddr>) {
        self.unreachable.write().unwrap_or_else(|poisoned| poisoned.into_inner()).extend(peers);
    }

    /// Reconnects every peer.
    pub fn heal(&self) {
        self.unreachable.write().unwrap_or_else(|poisoned| poisoned.into_inner()).clear();
    }

    /// Whether `peer` is cut off.
    pub fn blocks(&self, peer: SocketAddr) -> bool {
        self.unreachable.read().unwrap_or_else(|poisoned| poisoned.into_inner()).contains(&peer)
    }

    /// The UDP gossip transport with this cut applied.
    pub fn transport(self: &Arc<Self>) -> CutTransport {
        CutTransport { cut: Arc::clone(self) }
    }
}

/// chitchat's UDP transport, dropping datagrams to and from the addresses of a [`Cut`].
pub struct CutTransport {
    cut: Arc<Cut>,
}

#[async_trait]
impl Transport for CutTransport {
    async fn open(&self, listen_addr: SocketAddr) -> anyhow::Result<Box<dyn Socket>> {
        let inner = UdpTransport.open(listen_addr).await?;
        Ok(Box::new(CutSocket { cut: Arc::clone(&self.cut), inner }))
    }
}

struct CutSocket {
    cut: Arc<Cut>,
    inner: Box<dyn Socket>,
}

#[async_trait]
impl Socket for CutSocket {
    fn local_addr(&self) -> anyhow::Result<SocketAddr> {
        self.inner.local_addr()
    }

    async fn send(&mut self, to: SocketAddr, envelope: ChitchatEnvelope) -> anyhow::Result<SendOutcome> {
        if self.cut.blocks(to) {
            return Ok(SendOutcome { num_bytes_sent: 0 });
        }
        self.inner.send(to, envelope).await
    }

    async fn recv(&mut self) -> anyhow::Result<RecvOutcome> {
        loop {
            let received = self.inner.recv().await?;
            if !self.cut.blocks(received.from_addr) {
                return Ok(received);
            }
        }
    }
}
