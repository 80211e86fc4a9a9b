//! [`DemoState`]: what the demo's handlers share, and how they read the client's session.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::slots::TaskSlots;
use crate::error::ApiError;
use crate::extract::ClientSession;
use crate::state::AppState;

/// What the demo's handlers share: the app's state, and the demo's own (the running tasks),
/// one per [`router`](super::router) built. Cheap to clone.
#[derive(Clone)]
pub struct DemoState {
    /// The app's state: sessions, documents, the task tracker shutdown waits for.
    pub app: AppState,
    /// The users whose task is running.
    pub slots: TaskSlots,
}

/// The client's session on a demo route: read and validated exactly as on the API's.
impl FromRequestParts<DemoState> for ClientSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, demo: &DemoState) -> Result<Self, Self::Rejection> {
        <Self as FromRequestParts<AppState>>::from_request_parts(parts, &demo.app).await
    }
}
