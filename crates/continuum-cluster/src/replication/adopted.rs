//! [`Adopted`]: the views this node has taken since its copies were last known complete, and
//! which copies it may trust because of them.
//!
//! A node answers a read from its own copy only if it can know that copy has every
//! acknowledged write. That holds for a key it owned under every view it has taken since every
//! peer last finished handing keys over to it (the view the copies were *settled* for): each
//! write acknowledged under one of those views was copied to it as an owner. A key it gained by
//! a membership change may be held here from an earlier time it owned it, and be stale: the
//! fault suite saw a node answer an older version of a session 3 ms after another node
//! acknowledged a newer one, a copy kept from before a pause. Such a copy is trusted only once
//! every peer has finished its transfer for the current view; until then the read asks the
//! others.
//!
//! Membership notes every view it produces ([`Adopted::note`]); a reader that finds every peer
//! finished for the current view settles it ([`Adopted::settle`]). The common case — nothing
//! changed since the last settle — is one atomic load.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use continuum_core::placement::PlacementKey;

use super::view::{Replicas, View};
use super::written::Written;

/// The views taken since the last settled one, shared by membership and the node.
#[derive(Debug, Default)]
pub struct Adopted {
    views: Mutex<Written>,
    /// The fingerprint of the view the copies were last settled for, while it is the only view
    /// noted since; 0 otherwise.
    settled: AtomicU64,
}

impl Adopted {
    fn views(&self) -> MutexGuard<'_, Written> {
        self.views.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Notes a view membership just produced (before it is published).
    pub fn note(&self, view: &Arc<View>) {
        let mut views = self.views();
        views.note(view);
        self.settled.store(0, Ordering::Release);
    }

    /// Every peer has finished its transfer for `view`: the copies of every key this node owns
    /// under it are complete. Ignored when a later view has been noted meanwhile.
    pub fn settle(&self, view: &View) {
        let mut views = self.views();
        if views.last().is_some_and(|last| last.fingerprint() == view.fingerprint()) {
            views.restart();
            self.settled.store(view.fingerprint(), Ordering::Release);
        }
    }

    /// Whether this node's copy of `key` is complete under `view` without asking anyone:
    /// nothing changed since `view` was settled, or `me` owned `key` under every view noted
    /// since the last settle.
    pub fn trusts(&self, view: &View, me: &str, key: &PlacementKey, replicas: Replicas) -> bool {
        if self.settled.load(Ordering::Acquire) == view.fingerprint() {
            return true;
        }
        self.views().owned_throughout(me, key, replicas)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(ids: &[&str]) -> Arc<View> {
        Arc::new(crate::replication::view::test_view(ids, 3))
    }

    fn keys() -> impl Iterator<Item = PlacementKey> {
        (0..300u32).map(|i| {
            let mut bytes = [3u8; 16];
            bytes[..4].copy_from_slice(&i.to_le_bytes());
            PlacementKey::session(&continuum_core::SessionId::from_bytes(bytes))
        })
    }

    #[test]
    fn a_key_gained_after_a_pause_is_not_trusted_until_the_view_is_settled() {
        let (abc, bc) = (view(&["a", "b", "c"]), view(&["b", "c"]));
        let adopted = Adopted::default();
        adopted.note(&abc);
        adopted.settle(&abc);
        // a is away: c gains some of a's keys, and may hold old copies of them.
        adopted.note(&bc);
        let (mut gained, mut kept) = (0, 0);
        for key in keys() {
            let owned_before = abc.owners(&key, Replicas::Backups(1)).contains(&"c");
            let owned_now = bc.owners(&key, Replicas::Backups(1)).contains(&"c");
            if !owned_now {
                continue;
            }
            let trusted = adopted.trusts(&bc, "c", &key, Replicas::Backups(1));
            assert_eq!(trusted, owned_before, "trusted only where c owned the key under both views");
            gained += usize::from(!owned_before);
            kept += usize::from(owned_before);
        }
        assert!(gained > 20 && kept > 20, "{gained} gained, {kept} kept");
        adopted.settle(&bc);
        assert!(keys().all(|key| adopted.trusts(&bc, "c", &key, Replicas::Backups(1))));
    }

    #[test]
    fn a_view_that_came_and_went_keeps_its_keys_untrusted_after_the_return() {
        let (abc, bc) = (view(&["a", "b", "c"]), view(&["b", "c"]));
        let adopted = Adopted::default();
        adopted.note(&bc);
        adopted.settle(&bc);
        // a returns (c owns less), then a leaves again before anything settles.
        adopted.note(&abc);
        adopted.note(&bc);
        let untrusted = keys()
            .filter(|key| bc.owners(key, Replicas::Backups(1)).contains(&"c"))
            .filter(|key| !adopted.trusts(&bc, "c", key, Replicas::Backups(1)))
            .count();
        assert!(untrusted > 20, "keys c did not own while a was back: {untrusted}");
        // A settle for a view no longer the latest changes nothing.
        adopted.settle(&abc);
        assert!(keys().any(|key| !adopted.trusts(&bc, "c", &key, Replicas::Backups(1))));
    }

    #[test]
    fn with_every_node_an_owner_a_departure_leaves_every_copy_trusted() {
        let (abc, ab) = (view(&["a", "b", "c"]), view(&["a", "b"]));
        let adopted = Adopted::default();
        adopted.note(&abc);
        adopted.settle(&abc);
        adopted.note(&ab);
        assert!(keys().all(|key| adopted.trusts(&ab, "a", &key, Replicas::All)));
    }
}
