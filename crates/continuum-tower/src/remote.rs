//! Remote mode: tokens validated by a Continuum server, answers cached for a bounded time and
//! evicted the moment the server's event stream says a session ended.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cache::{DEFAULT_CACHE_CAPACITY, DEFAULT_CACHE_TTL, SessionCache, digest};
use crate::client::ContinuumClient;
use crate::cookie::CookieConfig;
use crate::data::SessionData;
use crate::error::SessionError;
use crate::events::{EventListener, StreamState};
use crate::mode::Validation;

/// Settings of the remote mode.
#[derive(Clone, Debug)]
pub struct RemoteConfig {
    /// The Continuum server, `http://host:port`.
    pub url: String,
    /// A backend-plane API key of that server.
    pub api_key: String,
    /// How long a validation is reused without asking the server (default 5 s); zero turns the
    /// cache off and every request asks the server.
    pub cache_ttl: Duration,
    /// How many tokens are cached at most.
    pub cache_capacity: usize,
    /// Issue sealed (`cs~`) tokens at login instead of stored ones.
    pub sealed_tokens: bool,
    /// The cookie.
    pub cookie: CookieConfig,
}

impl RemoteConfig {
    /// The server at `url` with `api_key`, a 5 s cache, production cookies.
    pub fn new(url: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            api_key: api_key.into(),
            cache_ttl: DEFAULT_CACHE_TTL,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            sealed_tokens: false,
            cookie: CookieConfig::default(),
        }
    }

    /// No cache: every request validates with the server.
    pub fn without_cache(mut self) -> Self {
        self.cache_ttl = Duration::ZERO;
        self
    }
}

/// The remote mode's runtime.
#[derive(Debug)]
pub(crate) struct Remote {
    pub(crate) config: RemoteConfig,
    client: ContinuumClient,
    cache: Arc<Mutex<SessionCache>>,
    stream: Arc<StreamState>,
    /// Aborts the event task when the last layer clone goes; `None` without a cache.
    _listener: Option<EventListener>,
}

impl Remote {
    /// Starts the mode (and its event task, when caching) on the current tokio runtime.
    pub(crate) fn start(config: RemoteConfig) -> Self {
        let client = ContinuumClient::new(config.url.clone(), &config.api_key);
        let cache = Arc::new(Mutex::new(SessionCache::new(config.cache_ttl, config.cache_capacity)));
        let stream = Arc::new(StreamState::default());
        let caching = !cache.lock().expect("cache lock").is_off();
        let listener = caching.then(|| EventListener::spawn(client.clone(), cache.clone(), stream.clone()));
        Self { config, client, cache, stream, _listener: listener }
    }

    pub(crate) async fn validate(&self, token: &str) -> Result<Validation, SessionError> {
        let key = digest(token);
        let ticket = {
            let cache = self.cache.lock().expect("cache lock");
            if self.stream.is_live()
                && let Some(session) = cache.get(&key, Instant::now())
            {
                return Ok(Validation { session: session.clone(), replacement: None });
            }
            cache.ticket()
        };
        let validated = self.client.validate(token).await?;
        if self.stream.is_live() && validated.token.is_none() {
            let mut cache = self.cache.lock().expect("cache lock");
            cache.insert(ticket, key, validated.session.clone(), Instant::now());
        }
        Ok(Validation { session: validated.session, replacement: validated.token })
    }

    pub(crate) async fn login(
        &self,
        principal: &str,
        user_agent: Option<&str>,
    ) -> Result<(SessionData, String), SessionError> {
        let issued = self.client.create(principal, user_agent, self.config.sealed_tokens).await?;
        Ok((issued.session, issued.token))
    }

    pub(crate) async fn revoke(&self, current: &SessionData) -> Result<(), SessionError> {
        self.cache.lock().expect("cache lock").evict(&current.sid);
        if current.sealed {
            return Ok(()); // nothing stored to revoke: clearing the cookie is all there is
        }
        Ok(self.client.revoke(&current.sid).await?)
    }

    pub(crate) async fn update(
        &self,
        current: &SessionData,
        patch: Value,
    ) -> Result<SessionData, SessionError> {
        if current.sealed {
            return Err(SessionError::Unsupported("a sealed token's attributes cannot be patched remotely"));
        }
        let session = self.client.patch_attributes(&current.sid, patch).await?;
        // The cached copy has the old attributes; the next request revalidates.
        self.cache.lock().expect("cache lock").evict(&current.sid);
        Ok(session)
    }

    pub(crate) async fn devices(&self, principal: &str) -> Result<Vec<SessionData>, SessionError> {
        Ok(self.client.sessions_of(principal).await?)
    }
}
