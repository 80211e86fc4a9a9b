//! [`Session`]: the axum extractor a handler takes — the current session, `login` (a fresh
//! session and cookie, the old one revoked), `logout`, attribute updates, the user's devices.
//! It records the cookie change; the layer writes it on the response.

use std::sync::{Arc, Mutex};

use axum::extract::FromRequestParts;
use http::HeaderValue;
use http::request::Parts;
use serde_json::Value;

use crate::data::SessionData;
use crate::error::SessionError;
use crate::mode::Mode;

/// What the response must do to the cookie.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CookieChange {
    Keep,
    Set(String),
    Clear,
}

#[derive(Debug)]
struct Current {
    data: SessionData,
    token: String,
}

#[derive(Debug)]
struct State {
    current: Option<Current>,
    cookie: CookieChange,
}

/// The session of this request. Clones share it. Its lock is never held across `.await`.
#[derive(Clone, Debug)]
pub struct Session {
    mode: Mode,
    user_agent: Option<String>,
    state: Arc<Mutex<State>>,
}

impl Session {
    pub(crate) fn new(
        mode: Mode,
        user_agent: Option<String>,
        current: Option<(SessionData, String)>,
        cookie: CookieChange,
    ) -> Self {
        let current = current.map(|(data, token)| Current { data, token });
        Self { mode, user_agent, state: Arc::new(Mutex::new(State { current, cookie })) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("session lock")
    }

    /// The current session, `None` for an anonymous request.
    pub fn data(&self) -> Option<SessionData> {
        self.state().current.as_ref().map(|current| current.data.clone())
    }

    /// Who is logged in, if anyone.
    pub fn principal(&self) -> Option<String> {
        self.state().current.as_ref().map(|current| current.data.principal.clone())
    }

    /// Logs `principal` in: revokes the current session if any, creates a fresh one (a new id,
    /// so a fixated id is worthless) and sets its cookie on the response.
    pub async fn login(&self, principal: &str) -> Result<SessionData, SessionError> {
        let old = self.state().current.as_ref().map(|current| current.data.clone());
        if let Some(old) = &old {
            self.mode.revoke(old).await?;
        }
        let (data, token) = self.mode.login(principal, self.user_agent.as_deref()).await?;
        let mut state = self.state();
        state.cookie = CookieChange::Set(token.clone());
        state.current = Some(Current { data: data.clone(), token });
        Ok(data)
    }

    /// Logs out: revokes the session (remote mode) and clears the cookie. Logging out an
    /// anonymous request only clears the cookie.
    pub async fn logout(&self) -> Result<(), SessionError> {
        let old = self.state().current.as_ref().map(|current| current.data.clone());
        if let Some(old) = &old {
            self.mode.revoke(old).await?;
        }
        let mut state = self.state();
        state.current = None;
        state.cookie = CookieChange::Clear;
        Ok(())
    }

    /// Merges `patch` (RFC 7396) into the session's attributes. Remote mode writes it to the
    /// server atomically; sealed mode seals the new attributes into a new cookie.
    pub async fn update(&self, patch: Value) -> Result<SessionData, SessionError> {
        let (data, token) = {
            let state = self.state();
            let current = state.current.as_ref().ok_or(SessionError::NotLoggedIn)?;
            (current.data.clone(), current.token.clone())
        };
        let (data, replacement) = self.mode.update(&data, &token, patch).await?;
        let mut state = self.state();
        let token = match replacement {
            Some(new) => {
                state.cookie = CookieChange::Set(new.clone());
                new
            }
            None => token,
        };
        state.current = Some(Current { data: data.clone(), token });
        Ok(data)
    }

    /// The logged-in principal's live sessions, oldest first (remote mode only).
    pub async fn devices(&self) -> Result<Vec<SessionData>, SessionError> {
        let principal = self.principal().ok_or(SessionError::NotLoggedIn)?;
        self.mode.devices(&principal).await
    }

    /// The `Set-Cookie` the response needs, if any.
    pub(crate) fn set_cookie(&self) -> Option<HeaderValue> {
        let cookie = self.mode.cookie();
        match &self.state().cookie {
            CookieChange::Keep => None,
            CookieChange::Set(token) => cookie.set(token),
            CookieChange::Clear => Some(cookie.clear()),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = SessionError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Session>().cloned().ok_or(SessionError::MissingLayer)
    }
}
