//! [`TaskSlots`]: the users whose demo task is running, one task per user at a time; a start
//! waits briefly for a slot that is being freed.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use continuum_core::Principal;

/// How long a start waits for a task slot that is taken before refusing. A task frees its slot
/// just after writing "done", and a device that sees "done" may start the next task at once;
/// that start waits for the slot instead of being refused.
pub const SLOT_WAIT: Duration = Duration::from_millis(500);

/// The users whose task is running. Cheap to clone; clones share the slots.
#[derive(Clone, Debug, Default)]
pub struct TaskSlots {
    running: Arc<Slots>,
}

/// The users whose task is running, and a signal when one ends.
#[derive(Debug, Default)]
struct Slots {
    users: Mutex<HashSet<Principal>>,
    freed: tokio::sync::Notify,
}

impl TaskSlots {
    /// Claims the task slot of `principal`; `None` if a task of theirs is running.
    pub fn try_claim(&self, principal: &Principal) -> Option<Claim> {
        let mut users = self.running.users.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        users
            .insert(principal.clone())
            .then(|| Claim { running: Arc::clone(&self.running), principal: principal.clone() })
    }

    /// Claims the task slot of `principal`, waiting up to [`SLOT_WAIT`] for a running task of
    /// theirs to end; `None` if it is still running then.
    pub async fn claim(&self, principal: &Principal) -> Option<Claim> {
        let deadline = tokio::time::Instant::now() + SLOT_WAIT;
        loop {
            // Registered before trying, so a release between the try and the wait is not missed.
            let freed = self.running.freed.notified();
            if let Some(claim) = self.try_claim(principal) {
                return Some(claim);
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return None;
            }
        }
    }
}

/// A user's task slot, released when dropped (the task ended, failed or was cancelled).
#[derive(Debug)]
pub struct Claim {
    running: Arc<Slots>,
    principal: Principal,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.running.users.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&self.principal);
        self.running.freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_start_waits_briefly_for_a_slot_that_is_being_freed() {
        let slots = TaskSlots::default();
        let alice = Principal::parse("alice").unwrap();
        let running = slots.try_claim(&alice).expect("a free slot");
        assert!(slots.try_claim(&alice).is_none(), "one task per user");
        assert!(slots.try_claim(&Principal::parse("bob").unwrap()).is_some(), "other users are not held up");

        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            drop(running);
        });
        let next = slots.claim(&alice).await;
        assert!(next.is_some(), "the slot freed within the wait");

        let started = tokio::time::Instant::now();
        assert!(slots.claim(&alice).await.is_none(), "still running after the wait");
        assert!(started.elapsed() >= SLOT_WAIT, "refused only after waiting");
    }
}
