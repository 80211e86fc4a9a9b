//! [`KeyedThrottle`]: events counted per key in fixed windows around the pure
//! [`continuum_core::FailureThrottle`]: failed handoff redemptions per client address
//! ([`ClientThrottle`]), successful ones per principal ([`PrincipalThrottle`]).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use continuum_core::{FailureThrottle, FailureWindow, Principal, Timestamp};

/// The most keys remembered; past it, stale entries are dropped first, then the map is cleared
/// (forgetting counts is the safe side for availability).
const MAX_CLIENTS: usize = 100_000;

/// Event windows by key.
#[derive(Debug)]
pub struct KeyedThrottle<K> {
    throttle: FailureThrottle,
    clients: Mutex<HashMap<K, FailureWindow>>,
}

/// Failed handoff redemptions by client address.
pub type ClientThrottle = KeyedThrottle<IpAddr>;

/// Successful handoff redemptions by principal: each one is a new session, so this bounds how
/// fast one user's sessions can multiply.
pub type PrincipalThrottle = KeyedThrottle<Principal>;

impl<K: Eq + Hash + Clone> KeyedThrottle<K> {
    /// At most `max_failures` events per `window` per key.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self { throttle: FailureThrottle { max_failures, window }, clients: Mutex::default() }
    }

    /// `Ok` if `client` may try at `now`, or how long it must wait.
    pub fn check(&self, client: &K, now: Timestamp) -> Result<(), Duration> {
        let clients = self.clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        clients.get(client).map_or(Ok(()), |state| self.throttle.check(state, now))
    }

    /// Counts an event (a failure, for [`ClientThrottle`]) of `client` at `now`.
    pub fn record(&self, client: K, now: Timestamp) {
        let mut clients = self.clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if clients.len() >= MAX_CLIENTS {
            clients.retain(|_, state| !self.throttle.is_stale(state, now));
            if clients.len() >= MAX_CLIENTS {
                clients.clear();
            }
        }
        let state = clients.get(&client).copied().unwrap_or_default();
        clients.insert(client, self.throttle.record_failure(state, now));
    }
}
