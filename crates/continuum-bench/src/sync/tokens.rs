//! [`SocketTokens`]: the sessions a scenario's sockets open their documents as, created through
//! the backend plane, each lending its token to at most [`SOCKETS_PER_SESSION`] sockets.

use serde::Deserialize;

use super::error::SyncError;
use super::target::SocketAuth;
use crate::workload::BENCH_LABEL;
use continuum_client::{ApiClient, BearerKey, CreateSession, Endpoint};
use continuum_core::Device;

/// Sockets one session opens: the server's default `sync_limits.max_sockets_per_session`. A server
/// configured lower refuses the extra sockets with 429 `too-many-sockets`.
pub const SOCKETS_PER_SESSION: usize = 16;

/// How many sessions `sockets` sockets need, at `per_session` each.
pub fn sessions_needed(sockets: usize, per_session: usize) -> usize {
    sockets.div_ceil(per_session.max(1))
}

#[derive(Deserialize)]
struct Created {
    token: String,
    session: CreatedSession,
}

#[derive(Deserialize)]
struct CreatedSession {
    sid: String,
}

/// One session the bench created.
#[derive(Clone, Debug)]
pub struct BenchSession {
    /// Its id, for `session:<sid>` documents.
    pub sid: String,
    /// Its token, as the socket header.
    pub auth: SocketAuth,
}

/// Sessions of one principal, so that every socket may open the principal's `user:` documents.
#[derive(Clone, Debug)]
pub struct SocketTokens {
    sessions: Vec<BenchSession>,
}

impl SocketTokens {
    /// Creates enough sessions of `principal` for `sockets` sockets, one after another on one
    /// connection (a few hundred at most, next to thousands of sockets).
    pub async fn create(
        endpoint: &Endpoint,
        key: &BearerKey,
        principal: &str,
        sockets: usize,
    ) -> Result<Self, SyncError> {
        let mut client = ApiClient::new(endpoint.clone(), key.clone());
        let count = sessions_needed(sockets, SOCKETS_PER_SESSION);
        let mut sessions = Vec::with_capacity(count);
        for _ in 0..count {
            let body = CreateSession {
                principal: Some(principal.to_owned()),
                device: Some(Device { label: Some(BENCH_LABEL.to_owned()), user_agent: None }),
                ..CreateSession::default()
            };
            let answer = client.create(&body).await.map_err(SyncError::CreateSession)?;
            let created: Created = serde_json::from_value(answer).map_err(SyncError::CreatedAnswer)?;
            sessions.push(session(created.token, created.session.sid)?);
        }
        Ok(Self { sessions })
    }

    /// The session socket `index` opens as: sockets `0..16` share the first, and so on.
    pub fn for_socket(&self, index: usize) -> &BenchSession {
        &self.sessions[(index / SOCKETS_PER_SESSION).min(self.sessions.len() - 1)]
    }

    /// How many sessions there are.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

/// A [`BenchSession`] from a created session's token and sid.
pub fn session(token: String, sid: String) -> Result<BenchSession, SyncError> {
    let auth = SocketAuth::session(&token).ok_or(SyncError::UnusableToken)?;
    Ok(BenchSession { sid, auth })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_sockets_share_a_session() {
        assert_eq!(sessions_needed(1, SOCKETS_PER_SESSION), 1);
        assert_eq!(sessions_needed(16, SOCKETS_PER_SESSION), 1);
        assert_eq!(sessions_needed(17, SOCKETS_PER_SESSION), 2);
        assert_eq!(sessions_needed(1001, SOCKETS_PER_SESSION), 63);
        assert_eq!(sessions_needed(5, 0), 5, "a zero share is treated as one");
        let tokens = SocketTokens {
            sessions: (0..2).map(|i| session(format!("sid{i}.secret"), format!("sid{i}")).unwrap()).collect(),
        };
        assert_eq!(tokens.for_socket(15).sid, "sid0");
        assert_eq!(tokens.for_socket(16).sid, "sid1");
        assert_eq!(tokens.for_socket(31).sid, "sid1");
    }
}
