//! Sealed mode: `cs~` tokens opened, checked and issued in process with the key ring; no
//! network, no store.
//!
//! What it cannot know: whether the user "signed out everywhere". That is a per-principal epoch
//! kept by a Continuum server's store, and a process that asks nobody cannot see it. Tokens are
//! issued with epoch 0 and the epoch is not checked; logout clears the cookie, and a copy of the
//! token kept elsewhere stays valid until its idle or absolute deadline. Use remote mode with
//! `sealed_tokens` when sign-out-everywhere matters.

use continuum_core::seal::KeyRing;
use continuum_core::{Clock as _, Device, NewSession, Principal, SealedSession, SessionPolicy, SystemClock};
use serde_json::Value;

use crate::cookie::CookieConfig;
use crate::data::SessionData;
use crate::error::SessionError;
use crate::mode::Validation;

/// Settings of the sealed mode.
#[derive(Clone, Debug)]
pub struct SealedConfig {
    /// The keys: the first seals, every one opens. Share them with every instance of the app.
    pub keys: KeyRing,
    /// Timeouts and the lazy-touch fraction (Continuum's defaults unless changed).
    pub policy: SessionPolicy,
    /// The cookie.
    pub cookie: CookieConfig,
}

impl SealedConfig {
    /// Sealing with `keys`, Continuum's default policy, production cookies.
    pub fn new(keys: KeyRing) -> Self {
        Self { keys, policy: SessionPolicy::default(), cookie: CookieConfig::default() }
    }
}

/// The sealed mode's runtime: a key ring and a clock.
#[derive(Debug)]
pub(crate) struct Sealed {
    pub(crate) config: SealedConfig,
}

impl Sealed {
    fn open(&self, token: &str) -> Result<SealedSession, SessionError> {
        self.config
            .keys
            .open(token)
            .map_err(|error| SessionError::InvalidSession(format!("invalid session token: {error}")))
    }

    fn seal(&self, session: &SealedSession) -> Result<String, SessionError> {
        self.config.keys.seal(session, self.config.cookie.name()).map_err(SessionError::Seal)
    }

    pub(crate) fn validate(&self, token: &str) -> Result<Validation, SessionError> {
        let session = self.open(token)?;
        let now = SystemClock.now();
        // The token's own epoch: pure sealed mode does not know the principal's current one.
        let check = session
            .check(&self.config.policy, session.epoch, now)
            .map_err(|rejection| SessionError::InvalidSession(rejection.to_string()))?;
        let Some(at) = check.touch else {
            return Ok(Validation { session: SessionData::from(&session), replacement: None });
        };
        let touched = session.touched(at);
        let replacement = self.seal(&touched)?;
        Ok(Validation { session: SessionData::from(&touched), replacement: Some(replacement) })
    }

    pub(crate) fn login(
        &self,
        principal: &str,
        user_agent: Option<&str>,
    ) -> Result<(SessionData, String), SessionError> {
        let principal = Principal::parse(principal).map_err(SessionError::InvalidPrincipal)?;
        let ask = NewSession {
            principal: Some(principal),
            device: Device { label: None, user_agent: user_agent.map(str::to_owned) },
            ..NewSession::default()
        };
        let session = SealedSession::issue(&self.config.policy, ask, 0, SystemClock.now())
            .map_err(SessionError::Policy)?;
        Ok((SessionData::from(&session), self.seal(&session)?))
    }

    /// The session of `token` with `patch` merged into its attributes, sealed again.
    pub(crate) fn update(&self, token: &str, patch: &Value) -> Result<(SessionData, String), SessionError> {
        let mut session = self.open(token)?;
        let mut attributes = Value::Object(std::mem::take(&mut session.attributes));
        json_patch::merge(&mut attributes, patch);
        let Value::Object(attributes) = attributes else {
            return Err(SessionError::Patch("the patch must be a JSON object".to_owned()));
        };
        session.attributes = attributes;
        Ok((SessionData::from(&session), self.seal(&session)?))
    }
}
