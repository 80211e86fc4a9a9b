//! [`MemoryBus`]: a [`Bus`] between the nodes of one process, carrying the same encoded notices
//! as a shared store's bus: for tests and examples of several nodes in one process.

use std::sync::{Arc, Mutex, Weak};

use async_trait::async_trait;
use continuum_store::bus::{Inbox, encode};
use continuum_store::{Bus, Heard, Notice, StoreError};
use tokio::sync::broadcast;

/// The default of [`MemoryBus::with_max_notice_bytes`]: as much as the Redis bus carries.
pub const MAX_NOTICE_BYTES: usize = 64 * 1024;

/// One node's end of an in-process bus. [`MemoryBus::join`] adds another node to the same
/// bus; a notice one publishes reaches every other node's subscribers, at once.
pub struct MemoryBus {
    members: Arc<Mutex<Vec<Weak<Inbox>>>>,
    inbox: Arc<Inbox>,
    max_notice_bytes: usize,
}

impl Default for MemoryBus {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryBus {
    /// The first node of a new bus.
    pub fn new() -> Self {
        Self::with_max_notice_bytes(MAX_NOTICE_BYTES)
    }

    /// The first node of a new bus on which a notice is at most `max` bytes long: a document
    /// update that would not fit is announced without its bytes, as on a store's bus.
    pub fn with_max_notice_bytes(max: usize) -> Self {
        let inbox = Arc::new(Inbox::new(Inbox::random_origin()));
        let members = Arc::new(Mutex::new(vec![Arc::downgrade(&inbox)]));
        Self { members, inbox, max_notice_bytes: max }
    }

    /// Another node on the same bus.
    pub fn join(&self) -> Self {
        let inbox = Arc::new(Inbox::new(Inbox::random_origin()));
        lock(&self.members).push(Arc::downgrade(&inbox));
        Self { members: Arc::clone(&self.members), inbox, max_notice_bytes: self.max_notice_bytes }
    }

    /// Tells this node's subscribers that notices may have been missed, as a store's bus does
    /// after its subscription broke and came back (a fault to inject in tests).
    pub fn gap(&self) {
        self.inbox.gap();
    }
}

/// The member list; never held across `.await`.
fn lock(members: &Mutex<Vec<Weak<Inbox>>>) -> std::sync::MutexGuard<'_, Vec<Weak<Inbox>>> {
    members.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait]
impl Bus for MemoryBus {
    async fn publish(&self, notice: &Notice) -> Result<(), StoreError> {
        let text = encode(self.inbox.origin(), notice, self.max_notice_bytes);
        let inboxes: Vec<Arc<Inbox>> = {
            let mut members = lock(&self.members);
            // Nodes that left (dropped their end) are forgotten.
            members.retain(|member| member.strong_count() > 0);
            members.iter().filter_map(Weak::upgrade).collect()
        };
        // Each inbox drops what its own node published.
        for inbox in inboxes {
            inbox.deliver(&text);
        }
        Ok(())
    }

    fn subscribe(&self) -> broadcast::Receiver<Heard> {
        self.inbox.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use continuum_core::DocKey;
    use continuum_store::testkit::bus::{
        a_broken_subscription_is_a_gap, heard, nodes_hear_each_other_not_themselves, silent,
    };

    use super::*;

    #[tokio::test]
    async fn nodes_on_one_bus_hear_each_other_not_themselves() {
        let a = MemoryBus::new();
        let b = a.join();
        nodes_hear_each_other_not_themselves(&a, &b, &MemoryBus::new()).await;
    }

    #[tokio::test]
    async fn an_injected_gap_is_heard_and_notices_follow() {
        let a = MemoryBus::new();
        let b = a.join();
        a_broken_subscription_is_a_gap(&a, &b, async {
            a.gap();
            b.gap();
        })
        .await;
    }

    #[tokio::test]
    async fn an_update_too_long_is_announced_without_its_bytes_and_departed_nodes_are_forgotten() {
        let a = MemoryBus::with_max_notice_bytes(1000);
        let b = a.join();
        let gone = a.join();
        let mut on_gone = gone.subscribe();
        drop(gone);
        let mut on_b = b.subscribe();
        let key = DocKey::parse("user:alice", "draft").unwrap();
        a.publish(&Notice::DocAppended { key: key.clone(), seq: 3, update: Some(vec![7; 2000]) })
            .await
            .unwrap();
        let without = Notice::DocAppended { key, seq: 3, update: None };
        assert_eq!(heard(&mut on_b).await, Heard::Notice(without.into()));
        assert_eq!(lock(&a.members).len(), 2, "the departed node was forgotten");
        assert!(on_gone.try_recv().is_err(), "a node that left hears nothing");
        silent(&mut on_b).await;
    }
}
