//! [`AppState`]: what every handler shares — the session service, keys, cookie settings, the
//! guest rate limiter and metrics.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use continuum_store::Sessions;
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::api_keys::ApiKeys;
use crate::config::GuestConfig;
use crate::cookie::CookieConfig;
use crate::metrics::Metrics;

/// Per-address limiter for guest sessions.
pub type GuestLimiter = DefaultKeyedRateLimiter<IpAddr>;

struct Inner {
    sessions: Sessions,
    api_keys: ApiKeys,
    cookies: CookieConfig,
    guest: Option<GuestLimiter>,
    metrics: Arc<Metrics>,
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
        Self { inner: Arc::new(Inner { sessions, api_keys, cookies, guest, metrics }) }
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

    /// The metrics registry.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }
}
