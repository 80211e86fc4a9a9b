//! [`Written`]: the views this node took writes under since its last finished transfer, and
//! which owners may lack a key because of them, without I/O.
//!
//! A transfer used to compare two views: the one its last finished transfer was for and the
//! current one. A view that came and went between them (a partition healing before the
//! transfer for it finished: five nodes, one cut off, then back) made the two equal, so nothing
//! moved, although writes taken under the short view — a revocation — never reached the node
//! that was away (the fault suite found that revocation undone). An owner that was not an owner
//! under *every* view a key may have been written under can lack its last write, so each
//! holder sends it the key.

use std::sync::Arc;

use continuum_core::placement::PlacementKey;

use super::view::{Replicas, View};

/// Past this many distinct views since the last finished transfer the list stops growing and
/// a transfer sends every key to every owner other than the holder (a cluster flapping that
/// much pays a full transfer once it settles).
const MAX_VIEWS: usize = 16;

/// The distinct views this node wrote under (as a primary, as a backup taking a copy, or
/// serving a forwarded write) since the view of its last finished transfer, that view first.
#[derive(Clone, Debug, Default)]
pub struct Written {
    views: Vec<Arc<View>>,
    overflowed: bool,
}

impl Written {
    /// Starts from `base`: the view the last finished transfer handed keys over for (every
    /// owner under it held every key then).
    pub fn from(base: Arc<View>) -> Self {
        Self { views: vec![base], overflowed: false }
    }

    /// Notes a view a write was taken under; returns whether it was new to the list.
    pub fn note(&mut self, view: &Arc<View>) -> bool {
        if self.views.iter().any(|held| held.fingerprint() == view.fingerprint()) {
            return false;
        }
        if self.views.len() >= MAX_VIEWS {
            self.overflowed = true;
            return false;
        }
        self.views.push(Arc::clone(view));
        true
    }

    /// How many views are noted (the base included).
    pub fn len(&self) -> usize {
        self.views.len()
    }

    /// Whether nothing is noted (no base yet).
    pub fn is_empty(&self) -> bool {
        self.views.is_empty()
    }

    /// Whether every view noted is `now`: a transfer for `now` has nothing to move.
    pub fn only(&self, now: &View) -> bool {
        !self.overflowed && self.views.iter().all(|view| view.fingerprint() == now.fingerprint())
    }

    /// After a transfer for `now` that started when `started` views were noted: `now` is the
    /// base, and the views noted while it ran stay (writes taken under them may have missed the
    /// transfer's walk).
    pub fn finished(&mut self, now: Arc<View>, started: usize) {
        let later: Vec<Arc<View>> = self.views.drain(..).skip(started).collect();
        self.overflowed = false;
        self.views.push(now);
        for view in &later {
            self.note(view);
        }
    }

    /// The last view noted.
    pub fn last(&self) -> Option<&Arc<View>> {
        self.views.last()
    }

    /// Keeps only the last view noted, as the base (see [`super::adopted::Adopted::settle`]).
    pub fn restart(&mut self) {
        let last = self.views.pop();
        self.views.clear();
        self.views.extend(last);
        self.overflowed = false;
    }

    /// Whether `me` owned `key` under every view noted (never after an overflow, nor with
    /// nothing noted).
    pub fn owned_throughout(&self, me: &str, key: &PlacementKey, replicas: Replicas) -> bool {
        !self.overflowed
            && !self.views.is_empty()
            && self.views.iter().all(|view| view.owners(key, replicas).contains(&me))
    }

    /// The owners of `key` under `now`, other than `me`, that were not owners under every view
    /// noted: the nodes a holder of the key sends it to.
    pub fn gained<'a>(
        &self,
        now: &'a View,
        me: &str,
        key: &PlacementKey,
        replicas: Replicas,
    ) -> Vec<&'a str> {
        let mut targets: Vec<&str> =
            now.owners(key, replicas).into_iter().filter(|owner| *owner != me).collect();
        if self.overflowed {
            return targets;
        }
        targets.retain(|owner| !self.views.iter().all(|view| view.owners(key, replicas).contains(owner)));
        targets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(ids: &[&str]) -> Arc<View> {
        Arc::new(crate::replication::view::test_view(ids, 5))
    }

    fn keys() -> impl Iterator<Item = PlacementKey> {
        (0..300u32).map(|i| {
            let mut bytes = [7u8; 16];
            bytes[..4].copy_from_slice(&i.to_le_bytes());
            PlacementKey::session(&continuum_core::SessionId::from_bytes(bytes))
        })
    }

    #[test]
    fn a_view_that_came_and_went_sends_the_keys_written_under_it_to_the_returning_owner() {
        let (all, without_e) = (view(&["a", "b", "c", "d", "e"]), view(&["a", "b", "c", "d"]));
        let mut written = Written::from(Arc::clone(&all));
        written.note(&without_e);
        let mut to_e = 0;
        for key in keys() {
            let targets = written.gained(&all, "a", &key, Replicas::Backups(1));
            let owned_by_e = all.owners(&key, Replicas::Backups(1)).contains(&"e");
            assert_eq!(targets.contains(&"e"), owned_by_e, "e was an owner under one view only");
            to_e += usize::from(targets.contains(&"e"));
            // Two views only: whoever owns the key under both holds every write of it.
            for target in targets {
                assert!(!without_e.owners(&key, Replicas::Backups(1)).contains(&target));
            }
        }
        assert!(to_e > 60, "{to_e} of 300 keys sent to the node that was away");
        // The comparison of the two end views alone moves nothing: the bug this fixes.
        assert!(Written::from(Arc::clone(&all)).only(&all));
        assert!(!written.only(&all));
    }

    #[test]
    fn owners_under_every_view_get_nothing() {
        let abc = view(&["a", "b", "c"]);
        let written = Written::from(Arc::clone(&abc));
        for key in keys() {
            assert!(written.gained(&abc, "a", &key, Replicas::Backups(1)).is_empty());
            assert!(written.gained(&abc, "a", &key, Replicas::All).is_empty());
        }
    }

    #[test]
    fn views_noted_while_a_transfer_ran_are_kept_after_it() {
        let (abc, ab, abcd) = (view(&["a", "b", "c"]), view(&["a", "b"]), view(&["a", "b", "c", "d"]));
        let mut written = Written::from(abc);
        written.note(&ab);
        let started = written.len();
        written.note(&abcd);
        written.finished(Arc::clone(&ab), started);
        assert_eq!(written.len(), 2);
        assert!(!written.only(&ab));
        written.finished(Arc::clone(&ab), written.len());
        assert!(written.only(&ab));
    }

    #[test]
    fn a_flapping_cluster_falls_back_to_sending_every_key_to_every_other_owner() {
        let base = view(&["a", "b", "c"]);
        let mut written = Written::from(Arc::clone(&base));
        for i in 0..MAX_VIEWS + 2 {
            written.note(&view(&["a", "b", "c", &format!("x{i}")]));
        }
        assert_eq!(written.len(), MAX_VIEWS);
        for key in keys() {
            let owners: Vec<&str> =
                base.owners(&key, Replicas::Backups(1)).into_iter().filter(|owner| *owner != "a").collect();
            assert_eq!(written.gained(&base, "a", &key, Replicas::Backups(1)), owners);
        }
    }
}
