//! [`ClientThrottle`]: per-address failure counting around the pure
//! [`continuum_core::FailureThrottle`].

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use continuum_core::{FailureThrottle, FailureWindow, Timestamp};

/// The most client addresses remembered; past it, stale entries are dropped first, then the map
/// is cleared (forgetting failures is the safe side for availability; the window is short).
const MAX_CLIENTS: usize = 100_000;

/// Failure windows by client address.
#[derive(Debug)]
pub struct ClientThrottle {
    throttle: FailureThrottle,
    clients: Mutex<HashMap<IpAddr, FailureWindow>>,
}

impl ClientThrottle {
    /// At most `max_failures` per `window` per address.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self { throttle: FailureThrottle { max_failures, window }, clients: Mutex::default() }
    }

    /// `Ok` if `client` may try at `now`, or how long it must wait.
    pub fn check(&self, client: IpAddr, now: Timestamp) -> Result<(), Duration> {
        let clients = self.clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        clients.get(&client).map_or(Ok(()), |state| self.throttle.check(state, now))
    }

    /// Counts a failure of `client` at `now`.
    pub fn record_failure(&self, client: IpAddr, now: Timestamp) {
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
