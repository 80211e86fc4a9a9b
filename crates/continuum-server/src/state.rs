//! [`AppState`]: what every handler shares — the session services (stored and sealed), keys, cookie settings, the
//! guest rate limiter and metrics.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use std::time::Duration;

use continuum_core::{HandoffCode, SessionId};
use continuum_store::{DocStore, SealedSessions, Sessions};
use continuum_sync::{DocRegistry, SyncConfig};
use governor::{DefaultKeyedRateLimiter, Quota};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::api_keys::ApiKeys;
use crate::config::{ClientLimits, GuestConfig};
use crate::cookie::CookieConfig;
use crate::docs_state::{Docs, SyncLimits};
use crate::events::EventFeed;
use crate::handoff_grant::HandoffGrant;
use crate::metrics::Metrics;
use crate::one_time::OneTimeCodes;
use crate::sockets::SocketCounter;
use crate::throttle::{ClientThrottle, PrincipalThrottle};

/// Per-address limiter for guest sessions.
pub type GuestLimiter = DefaultKeyedRateLimiter<IpAddr>;

/// Failed handoff redemptions allowed per client address and window.
pub const REDEEM_FAILURES: u32 = 5;
/// The window of [`REDEEM_FAILURES`].
pub const REDEEM_WINDOW: Duration = Duration::from_secs(60);
/// Outstanding handoff codes (and, separately, sync tickets) one node holds at most; one
/// session holds at most [`ClientLimits::handoff_codes_per_session`] of them.
pub const MAX_OUTSTANDING_CODES: usize = 100_000;
/// The window of [`ClientLimits::redemptions_per_principal_per_hour`].
pub const REDEMPTION_WINDOW: Duration = Duration::from_secs(3600);

struct Inner {
    sessions: Sessions,
    sealed: SealedSessions,
    api_keys: ApiKeys,
    cookies: CookieConfig,
    guest: Option<GuestLimiter>,
    metrics: Arc<Metrics>,
    handoffs: OneTimeCodes<HandoffCode, HandoffGrant>,
    redeem_throttle: ClientThrottle,
    redemptions: PrincipalThrottle,
    client_limits: ClientLimits,
    docs: Docs,
    tickets: OneTimeCodes<String, SessionId>,
    sockets: Arc<SocketCounter>,
    /// Cancelled when the server shuts down: sync sockets close and their tasks end.
    shutdown: CancellationToken,
    /// Every sync socket's task (and the background tasks of routes mounted beside the API,
    /// such as the demo's), so shutdown can wait for them before closing the store.
    socket_tasks: TaskTracker,
    /// Session events for `GET /v1/events`.
    feed: EventFeed,
}

/// Shared state of the app. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

impl AppState {
    /// State over a session service and a sealed-session service, with the default
    /// [`ClientLimits`]. Guest sessions are served only when `guest.enabled`.
    pub fn new(
        sessions: Sessions,
        sealed: SealedSessions,
        docs: Docs,
        api_keys: ApiKeys,
        cookies: CookieConfig,
        guest: &GuestConfig,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self::with_limits(sessions, sealed, docs, api_keys, cookies, guest, metrics, &ClientLimits::default())
    }

    /// [`AppState::new`] with the given per-session and per-principal limits.
    #[allow(clippy::too_many_arguments)]
    pub fn with_limits(
        sessions: Sessions,
        sealed: SealedSessions,
        docs: Docs,
        api_keys: ApiKeys,
        cookies: CookieConfig,
        guest: &GuestConfig,
        metrics: Arc<Metrics>,
        limits: &ClientLimits,
    ) -> Self {
        let guest = guest.enabled.then(|| {
            let per_minute = NonZeroU32::new(guest.per_minute.max(1)).expect("at least one");
            let burst = NonZeroU32::new(guest.burst.max(1)).expect("at least one");
            GuestLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst))
        });
        let shutdown = CancellationToken::new();
        Self {
            inner: Arc::new(Inner {
                sessions,
                sealed,
                api_keys,
                cookies,
                guest,
                metrics,
                handoffs: OneTimeCodes::new(MAX_OUTSTANDING_CODES, limits.handoff_codes_per_session),
                redeem_throttle: ClientThrottle::new(REDEEM_FAILURES, REDEEM_WINDOW),
                redemptions: PrincipalThrottle::new(
                    limits.redemptions_per_principal_per_hour,
                    REDEMPTION_WINDOW,
                ),
                client_limits: limits.clone(),
                docs,
                tickets: OneTimeCodes::new(MAX_OUTSTANDING_CODES, limits.tickets_per_session),
                // A socket's `ended` token is a child of `shutdown`: its loop waits on one token.
                sockets: Arc::new(SocketCounter::new(shutdown.clone())),
                shutdown,
                socket_tasks: TaskTracker::new(),
                feed: EventFeed::default(),
            }),
        }
    }

    /// The session service.
    pub fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    /// The sealed-session service.
    pub fn sealed(&self) -> &SealedSessions {
        &self.inner.sealed
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

    /// Successful handoff redemptions by principal.
    pub fn redemptions(&self) -> &PrincipalThrottle {
        &self.inner.redemptions
    }

    /// Codes, tickets, redemptions and sessions per session or principal.
    pub fn client_limits(&self) -> &ClientLimits {
        &self.inner.client_limits
    }

    /// Continuity documents: the live ones, their store, limits and shared operations.
    pub fn docs(&self) -> &Docs {
        &self.inner.docs
    }

    /// Live continuity documents.
    pub fn registry(&self) -> &DocRegistry {
        &self.inner.docs.registry
    }

    /// Where continuity documents are kept.
    pub fn doc_store(&self) -> &Arc<dyn DocStore> {
        &self.inner.docs.store
    }

    /// The sync engine's settings.
    pub fn sync_config(&self) -> &SyncConfig {
        &self.inner.docs.config
    }

    /// Socket and document limits.
    pub fn sync_limits(&self) -> &SyncLimits {
        &self.inner.docs.limits
    }

    /// Outstanding sync tickets.
    pub fn tickets(&self) -> &OneTimeCodes<String, SessionId> {
        &self.inner.tickets
    }

    /// Open sync sockets by session.
    pub fn sockets(&self) -> &Arc<SocketCounter> {
        &self.inner.sockets
    }

    /// Cancelled when the server shuts down.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.inner.shutdown
    }

    /// The tasks of open sync sockets and of mounted routes' background work: shutdown waits
    /// for them (after cancelling [`shutdown`](Self::shutdown)) before closing the store.
    pub fn socket_tasks(&self) -> &TaskTracker {
        &self.inner.socket_tasks
    }

    /// Session events, numbered for `GET /v1/events`.
    pub fn feed(&self) -> &EventFeed {
        &self.inner.feed
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }
}
