//! [`DocPath`] and [`VersionPath`]: path segments naming a continuity document (and a version).

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use continuum_core::DocKey;

use crate::error::ApiError;

/// A valid document key from the path.
#[derive(Debug)]
pub struct DocPath(pub DocKey);

/// A document key and a `{id}` version number from the path.
#[derive(Debug)]
pub struct VersionPath(pub DocKey, pub u64);

async fn segments<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<Vec<(String, String)>, ApiError> {
    let Path(segments) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
        .await
        .map_err(|error| ApiError::bad_request("invalid-path", error.body_text()))?;
    Ok(segments)
}

fn doc_key(segments: &[(String, String)]) -> Result<DocKey, ApiError> {
    let find = |name: &str| segments.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
    let (Some(scope), Some(name)) = (find("scope"), find("name")) else {
        return Err(ApiError::bad_request("invalid-path", "a document path is /{scope}/{name}"));
    };
    DocKey::parse(scope, name)
        .map_err(|error| ApiError::bad_request("invalid-document", format!("invalid document: {error}")))
}

impl<S: Send + Sync> FromRequestParts<S> for VersionPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let segments = segments(parts, state).await?;
        let key = doc_key(&segments)?;
        let id = segments.iter().find(|(name, _)| name == "id").map_or("", |(_, value)| value.as_str());
        let id = id.parse().map_err(|_| {
            ApiError::bad_request("invalid-version", format!("a version id is a number, got `{id}`"))
        })?;
        Ok(VersionPath(key, id))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for DocPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        doc_key(&segments(parts, state).await?).map(DocPath)
    }
}
