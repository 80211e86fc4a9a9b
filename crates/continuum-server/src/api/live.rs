//! Backend plane, live documents: which continuity documents are in memory and which devices
//! are connected to them, for operators (the admin page).

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use continuum_core::{Scope, SessionId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::json_response;
use crate::error::{ApiError, Problem};
use crate::extract::BackendAuth;
use crate::state::AppState;
use crate::views::DeviceView;

/// The most documents one answer lists.
pub const MAX_LIMIT: usize = 1000;

/// `GET /v1/live/docs?scope=…&limit=…`.
#[derive(Deserialize, ToSchema, Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LiveDocsQuery {
    /// Only documents of this scope (`user:<principal>` or `session:<sid>`).
    pub scope: Option<String>,
    /// At most this many documents, 1 to 1000 (default 100), in key order.
    pub limit: Option<usize>,
}

/// One connected session of a live document.
#[derive(Serialize, ToSchema, Debug)]
pub struct LiveDevice {
    /// The session id; absent for a backend connected by API key.
    #[schema(value_type = Option<String>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<SessionId>,
    /// The session's principal, when the session still exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// The session's device, when the session still exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceView>,
    /// Sockets this session has open on the document.
    pub sockets: usize,
}

/// One document in memory.
#[derive(Serialize, ToSchema, Debug)]
pub struct LiveDocView {
    /// `user:<principal>` or `session:<sid>`.
    pub scope: String,
    /// The document's name.
    pub name: String,
    /// Connected sockets.
    pub peers: usize,
    /// The connected sessions.
    pub devices: Vec<LiveDevice>,
}

/// `{docs, truncated}`.
#[derive(Serialize, ToSchema, Debug)]
pub struct LiveDocList {
    /// In key order.
    pub docs: Vec<LiveDocView>,
    /// Whether more documents matched than `limit`.
    pub truncated: bool,
}

/// The continuity documents in memory on this node, with the devices connected to each.
#[utoipa::path(get, path = "/v1/live/docs", operation_id = "list_live_docs", tag = "backend", security(("api_key" = [])),
    params(LiveDocsQuery),
    responses((status = 200, body = LiveDocList), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    _: BackendAuth,
    query: Result<Query<LiveDocsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|error| ApiError::bad_request("invalid-query", error.body_text()))?;
    let scope = query
        .scope
        .as_deref()
        .map(Scope::parse)
        .transpose()
        .map_err(|error| ApiError::bad_request("invalid-scope", format!("invalid `scope`: {error}")))?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid-limit",
            format!("`limit` is 1 to {MAX_LIMIT}, got {limit}"),
        ));
    }
    let mut matching = state.registry().live_docs();
    matching.retain(|doc| scope.as_ref().is_none_or(|scope| &doc.key.scope == scope));
    let truncated = matching.len() > limit;
    let mut docs = Vec::new();
    for listing in matching.into_iter().take(limit) {
        let mut sockets: BTreeMap<Option<SessionId>, usize> = BTreeMap::new();
        for peer in &listing.peers {
            *sockets.entry(*peer).or_default() += 1;
        }
        let mut devices = Vec::with_capacity(sockets.len());
        for (sid, sockets) in sockets {
            let record = match sid {
                Some(sid) => state.sessions().get(&sid).await.ok(),
                None => None,
            };
            devices.push(LiveDevice {
                sid,
                principal: record.as_ref().map(|record| record.principal.to_string()),
                device: record.as_ref().map(|record| DeviceView {
                    label: record.device.label.clone(),
                    user_agent: record.device.user_agent.clone(),
                }),
                sockets,
            });
        }
        docs.push(LiveDocView {
            scope: listing.key.scope.to_string(),
            name: listing.key.name.to_string(),
            peers: listing.peers.len(),
            devices,
        });
    }
    Ok(json_response(StatusCode::OK, &LiveDocList { docs, truncated }))
}
