//! [`Mode`]: remote or sealed, behind one set of operations the layer and [`Session`](crate::Session) call.

use std::sync::Arc;

use serde_json::Value;

use crate::cookie::CookieConfig;
use crate::data::SessionData;
use crate::error::SessionError;
use crate::remote::Remote;
use crate::sealed::Sealed;

/// A validated token.
#[derive(Debug)]
pub(crate) struct Validation {
    /// The session.
    pub(crate) session: SessionData,
    /// A token to replace the cookie with (a sealed token re-sealed after a touch).
    pub(crate) replacement: Option<String>,
}

/// How tokens are validated. Cheap to clone.
#[derive(Clone, Debug)]
pub(crate) enum Mode {
    Remote(Arc<Remote>),
    Sealed(Arc<Sealed>),
}

impl Mode {
    pub(crate) fn cookie(&self) -> &CookieConfig {
        match self {
            Self::Remote(remote) => &remote.config.cookie,
            Self::Sealed(sealed) => &sealed.config.cookie,
        }
    }

    pub(crate) async fn validate(&self, token: &str) -> Result<Validation, SessionError> {
        match self {
            Self::Remote(remote) => remote.validate(token).await,
            Self::Sealed(sealed) => sealed.validate(token),
        }
    }

    pub(crate) async fn login(
        &self,
        principal: &str,
        user_agent: Option<&str>,
    ) -> Result<(SessionData, String), SessionError> {
        match self {
            Self::Remote(remote) => remote.login(principal, user_agent).await,
            Self::Sealed(sealed) => sealed.login(principal, user_agent),
        }
    }

    /// Ends `current` where it is stored (remote); sealed mode has nowhere to end it.
    pub(crate) async fn revoke(&self, current: &SessionData) -> Result<(), SessionError> {
        match self {
            Self::Remote(remote) => remote.revoke(current).await,
            Self::Sealed(_) => Ok(()),
        }
    }

    /// Merges `patch` into the attributes; a new token when the session lives in it.
    pub(crate) async fn update(
        &self,
        current: &SessionData,
        token: &str,
        patch: Value,
    ) -> Result<(SessionData, Option<String>), SessionError> {
        match self {
            Self::Remote(remote) => Ok((remote.update(current, patch).await?, None)),
            Self::Sealed(sealed) => sealed.update(token, &patch).map(|(data, token)| (data, Some(token))),
        }
    }

    pub(crate) async fn devices(&self, principal: &str) -> Result<Vec<SessionData>, SessionError> {
        match self {
            Self::Remote(remote) => remote.devices(principal).await,
            Self::Sealed(_) => Err(SessionError::Unsupported(
                "a sealed session cannot list devices: nothing is stored (use remote mode)",
            )),
        }
    }
}
