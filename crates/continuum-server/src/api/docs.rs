//! Backend plane, continuity documents: read and patch a document as JSON, and its history of
//! named versions.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use continuum_core::DocKey;
use continuum_store::VersionMeta;
use continuum_sync::{LiveDoc, SyncError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::json_response;
use crate::docs_state::DocError;
use crate::error::{ApiError, Problem};
use crate::extract::{BackendAuth, DocPath, JsonBody, VersionPath};
use crate::state::AppState;
use crate::views::Rfc3339;

/// Maps a sync-layer error to an answer.
pub(crate) fn sync_error(error: SyncError) -> ApiError {
    match error {
        SyncError::MessageTooLarge { .. } | SyncError::DocTooLarge { .. } => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", error.to_string())
        }
        SyncError::NotAMap { .. }
        | SyncError::InvalidPatch(_)
        | SyncError::Malformed(_)
        | SyncError::Rejected(_) => ApiError::unprocessable("invalid-document-change", error.to_string()),
        SyncError::Detached | SyncError::Closed => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "document-unavailable",
            "the document is being reloaded after a storage failure; retry",
        )
        .with_header(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1")),
        SyncError::ReadOnly => ApiError::new(StatusCode::FORBIDDEN, "read-only", error.to_string()),
        SyncError::Store(_) | SyncError::Persistence(_) | SyncError::Corrupt(_) => ApiError::internal(error),
    }
}

/// Maps a document operation's error to an answer.
pub(crate) fn doc_error(error: DocError) -> ApiError {
    match error {
        DocError::TooManyDocuments { .. } => {
            ApiError::new(StatusCode::CONFLICT, "too-many-documents", error.to_string())
        }
        DocError::Names(source) => ApiError::internal(source),
        DocError::NotAnObject => ApiError::unprocessable("invalid-patch", error.to_string()),
        DocError::Sync(source) => sync_error(source),
    }
}

/// The live document, after checking the per-principal document limit when it does not exist yet.
pub(crate) async fn open_doc(
    state: &AppState,
    key: &DocKey,
    creating: bool,
) -> Result<Arc<LiveDoc>, ApiError> {
    state.docs().open(key, creating).await.map_err(doc_error)
}

/// A named version.
#[derive(Serialize, ToSchema, Debug)]
pub struct VersionView {
    /// Increasing per document from 1.
    pub id: u64,
    /// The name it was given.
    pub name: String,
    /// RFC 3339.
    #[schema(value_type = String)]
    pub created_at: Rfc3339,
}

impl From<&VersionMeta> for VersionView {
    fn from(meta: &VersionMeta) -> Self {
        Self { id: meta.id, name: meta.name.clone(), created_at: Rfc3339(meta.created_at) }
    }
}

/// `{versions: [...]}`.
#[derive(Serialize, ToSchema, Debug)]
pub struct VersionList {
    /// Oldest first.
    pub versions: Vec<VersionView>,
}

/// `{version, content}`.
#[derive(Serialize, ToSchema, Debug)]
pub struct VersionContent {
    /// The version.
    pub version: VersionView,
    /// The document as it was, as JSON.
    #[schema(value_type = Object)]
    pub content: Value,
}

/// `POST .../versions`.
#[derive(Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct NewVersion {
    /// 1 to 128 characters.
    pub name: String,
}

/// The document as JSON: one member per root-level shared type.
#[utoipa::path(get, path = "/v1/docs/{scope}/{name}", operation_id = "get_doc", tag = "backend", security(("api_key" = [])),
    params(("scope" = String, Path, description = "`user:<principal>` or `session:<sid>`"),
           ("name" = String, Path, description = "document name")),
    responses((status = 200, body = Object), (status = 400, body = Problem)))]
pub async fn get(
    State(state): State<AppState>,
    _: BackendAuth,
    DocPath(key): DocPath,
) -> Result<Response, ApiError> {
    let doc = open_doc(&state, &key, false).await?;
    Ok(json_response(StatusCode::OK, &doc.to_json()))
}

/// Apply a JSON merge patch whose members name root maps, as one change that connected clients
/// see at once. Answers the document after the patch, once the change is durable.
#[utoipa::path(patch, path = "/v1/docs/{scope}/{name}", operation_id = "patch_doc", tag = "backend", security(("api_key" = [])),
    params(("scope" = String, Path, description = "`user:<principal>` or `session:<sid>`"),
           ("name" = String, Path, description = "document name")),
    request_body(content = Object, content_type = "application/merge-patch+json"),
    responses((status = 200, body = Object), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn patch(
    State(state): State<AppState>,
    _: BackendAuth,
    DocPath(key): DocPath,
    JsonBody(patch): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let document = state.docs().patch_json(&key, &patch).await.map_err(doc_error)?;
    Ok(json_response(StatusCode::OK, &document))
}

/// Name the document's current state as a version.
#[utoipa::path(post, path = "/v1/docs/{scope}/{name}/versions", tag = "backend", security(("api_key" = [])),
    params(("scope" = String, Path, description = "`user:<principal>` or `session:<sid>`"),
           ("name" = String, Path, description = "document name")),
    request_body = NewVersion, responses((status = 201, body = VersionView), (status = 422, body = Problem)))]
pub async fn save_version(
    State(state): State<AppState>,
    _: BackendAuth,
    DocPath(key): DocPath,
    JsonBody(body): JsonBody<NewVersion>,
) -> Result<Response, ApiError> {
    let length = body.name.chars().count();
    if !(1..=128).contains(&length) || body.name.chars().any(char::is_control) {
        return Err(ApiError::unprocessable(
            "invalid-name",
            "a version name is 1 to 128 printable characters",
        ));
    }
    let doc = open_doc(&state, &key, true).await?;
    let meta = doc.save_version(body.name).await.map_err(sync_error)?;
    Ok(json_response(StatusCode::CREATED, &VersionView::from(&meta)))
}

/// The document's named versions, oldest first.
#[utoipa::path(get, path = "/v1/docs/{scope}/{name}/versions", tag = "backend", security(("api_key" = [])),
    params(("scope" = String, Path, description = "`user:<principal>` or `session:<sid>`"),
           ("name" = String, Path, description = "document name")),
    responses((status = 200, body = VersionList)))]
pub async fn list_versions(
    State(state): State<AppState>,
    _: BackendAuth,
    DocPath(key): DocPath,
) -> Result<Response, ApiError> {
    let doc = open_doc(&state, &key, false).await?;
    let versions = doc.versions().await.map_err(sync_error)?;
    Ok(json_response(
        StatusCode::OK,
        &VersionList { versions: versions.iter().map(VersionView::from).collect() },
    ))
}

/// One version's content as JSON.
#[utoipa::path(get, path = "/v1/docs/{scope}/{name}/versions/{id}", tag = "backend", security(("api_key" = [])),
    params(("scope" = String, Path, description = "`user:<principal>` or `session:<sid>`"),
           ("name" = String, Path, description = "document name"), ("id" = u64, Path, description = "version id")),
    responses((status = 200, body = VersionContent), (status = 404, body = Problem)))]
pub async fn get_version(
    State(state): State<AppState>,
    _: BackendAuth,
    VersionPath(key, id): VersionPath,
) -> Result<Response, ApiError> {
    let doc = open_doc(&state, &key, false).await?;
    let (meta, content) = doc
        .version_json(id)
        .await
        .map_err(sync_error)?
        .ok_or_else(|| ApiError::not_found(format!("this document has no version {id}")))?;
    Ok(json_response(StatusCode::OK, &VersionContent { version: VersionView::from(&meta), content }))
}

/// Restore a version as a new change: connected clients see the restored content at once and
/// every replica converges on it. Answers the document after the restore.
#[utoipa::path(post, path = "/v1/docs/{scope}/{name}/versions/{id}/restore", tag = "backend",
    security(("api_key" = [])),
    params(("scope" = String, Path, description = "`user:<principal>` or `session:<sid>`"),
           ("name" = String, Path, description = "document name"), ("id" = u64, Path, description = "version id")),
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
pub async fn restore(
    State(state): State<AppState>,
    _: BackendAuth,
    VersionPath(key, id): VersionPath,
) -> Result<Response, ApiError> {
    let doc = open_doc(&state, &key, false).await?;
    if !doc.restore(id).await.map_err(sync_error)? {
        return Err(ApiError::not_found(format!("this document has no version {id}")));
    }
    Ok(json_response(StatusCode::OK, &doc.to_json()))
}
