//! [`AppState`]: what every handler shares — the session service, keys, cookie settings, the
//! guest rate limiter and metrics.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use std::time::Duration;

use continuum_core::HandoffCode;
use continuum_store::Sessions;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::api::handoff::HandoffGrant;
use crate::api_keys::ApiKeys;
use crate::config::GuestConfig;
use crate::cookie::CookieConfig;
use crate::metrics::Metrics;
use crate::one_time::OneTimeCodes;
use crate::throttle::ClientThrottle;

/// Per-address limiter for guest sessions.
pub type GuestLimiter = DefaultKeyedRateLimiter<IpAddr>;

/// Failed handoff redemptions allowed per client address and window.
pub const REDEEM_FAILURES: u32 = 5;
/// The window of [`REDEEM_FAILURES`].
pub const REDEEM_WINDOW: Duration = Duration::from_secs(60);
/// Outstanding handoff codes (and, separately, sync tickets) one node holds at most.
pub const MAX_OUTSTANDING_CODES: usize = 100_000;

struct Inner {
    sessions: Sessions,
    api_keys: ApiKeys,
    cookies: CookieConfig,
    guest: Option<GuestLimiter>,
    metrics: Arc<Metrics>,
    handoffs: OneTimeCodes<HandoffCode, HandoffGrant>,
    redeem_throttle: ClientThrottle,
}

/// Shared state of the app. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl AppState {
    /// State over a session service. Guest sessions are served only when `guest.enabled`.
    pub fn new(
        sessions: Sessions,
        api_keys: ApiKeys,
        cookies: CookieConfig,
        guest: &GuestConfig,
        metrics: Arc<Metrics>,
    ) -> Self {
        let guest = guest.enabled.then(|| {
            let per_minute = NonZeroU32::new(guest.per_minute.max(1)).expect("at least one");
            let burst = NonZeroU32::new(guest.burst.max(1)).expect("at least one");
            GuestLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst))
        });
        Self {
            inner: Arc::new(Inner {
                sessions,
                api_keys,
                cookies,
                guest,
                metrics,
                handoffs: OneTimeCodes::new(MAX_OUTSTANDING_CODES),
                redeem_throttle: ClientThrottle::new(REDEEM_FAILURES, REDEEM_WINDOW),
            }),
        }
    }

    /// The session service.
    pub fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    /// The accepted API keys.
    pub fn api_keys(&self) -> &ApiKeys {
        &self.inner.api_keys
    }

    /// Cookie settings.
    pub fn cookies(&self) -> &CookieConfig {
        &self.inner.cookies
    }

    /// The guest limiter, `None` when guest sessions are disabled.
    pub fn guest(&self) -> Option<&GuestLimiter> {
        self.inner.guest.as_ref()
    }

    /// Outstanding handoff codes.
    pub fn handoffs(&self) -> &OneTimeCodes<HandoffCode, HandoffGrant> {
        &self.inner.handoffs
    }

    /// Failed handoff redemptions by client address.
    pub fn redeem_throttle(&self) -> &ClientThrottle {
        &self.inner.redeem_throttle
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }
}
