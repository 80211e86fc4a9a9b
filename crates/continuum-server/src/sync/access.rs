//! [`Opener`]: who opens a document — a client session (its own principal's and session's
//! documents only) or a backend (any document) — resolved from a ticket, the session cookie,
//! `Authorization: Session <token>` or `Authorization: Bearer <api key>`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Query};
use axum::http::header;
use axum::http::request::Parts;
use continuum_core::{DocKey, SessionRecord};

use crate::error::ApiError;
use crate::extract::{BackendAuth, ClientSession};
use crate::state::AppState;

/// Who is opening a document.
#[derive(Debug, Clone)]
pub enum Opener {
    /// A client, by its session.
    Client(Arc<SessionRecord>),
    /// A trusted backend, by API key.
    Backend,
}

impl Opener {
    /// Refuses a client opening a document outside its own principal and session.
    pub fn check(&self, key: &DocKey) -> Result<(), ApiError> {
        match self {
            Opener::Backend => Ok(()),
            Opener::Client(session) if key.scope.is_open_to(session) => Ok(()),
            Opener::Client(_) => Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "forbidden",
                "a session may open only its own principal's (user:<principal>) and its own (session:<sid>) documents",
            )),
        }
    }
}

/// The opener of a sync socket, from a one-time `?ticket=`, or the same credentials as the
/// client plane, or a backend API key.
#[derive(Debug)]
pub struct DocAccess(pub Opener);

impl FromRequestParts<AppState> for DocAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let query: Query<HashMap<String, String>> = Query::from_request_parts(parts, state)
            .await
            .map_err(|error| ApiError::bad_request("invalid-query", error.body_text()))?;
        if let Some(ticket) = query.get("ticket") {
            let now = state.sessions().now();
            let sid = state
                .tickets()
                .take(ticket, now)
                .ok_or_else(|| ApiError::invalid_token("the sync ticket is unknown, used or expired"))?;
            let record =
                state.sessions().get(&sid).await.map_err(|_| ApiError::invalid_token("the session ended"))?;
            state.sessions().policy().check_live(&record, now).map_err(ApiError::rejected)?;
            return Ok(DocAccess(Opener::Client(record)));
        }
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("Bearer "));
        if bearer {
            BackendAuth::from_request_parts(parts, state).await?;
            return Ok(DocAccess(Opener::Backend));
        }
        let session = ClientSession::from_request_parts(parts, state).await?;
        Ok(DocAccess(Opener::Client(session.record)))
    }
}
