//! Operations endpoints: liveness, readiness, metrics, the OpenAPI document and the bench floor.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200)))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: the store answers. `{"status": "ready"}`, or `{"status": "degraded",
/// "unavailable": {"sessions", "documents", "nodes"}}` (still 200: the node serves what it
/// holds) when a replicated store lost every owner of some keys; 503 when the store does not
/// answer.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "ready, or degraded with what is unavailable"),
    (status = 503, description = "the store does not answer")))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.sessions().store().ping().await {
        Ok(_) => match state.sessions().store().data_loss().map(|loss| loss.borrow().clone()) {
            // Still serving (what it holds is good), so still ready for a gateway; but saying
            // plainly what it cannot serve.
            Some(loss) if !loss.is_empty() => Json(json!({
                "status": "degraded",
                "unavailable": {"sessions": loss.sessions, "documents": loss.documents, "nodes": loss.nodes},
            }))
            .into_response(),
            _ => Json(json!({"status": "ready"})).into_response(),
        },
        Err(error) => {
            tracing::warn!(error = %error, "store not ready");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "store unavailable"}))).into_response()
        }
    }
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8")))]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let sessions = state.sessions().store().count().await.unwrap_or(0);
    let text = state.metrics().render(sessions, &state.registry().snapshot());
    let content_type = HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8");
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

/// The smallest possible answer: the floor `continuum bench` measures the other scenarios against.
#[utoipa::path(get, path = "/hello", tag = "operations", responses((status = 200, content_type = "text/plain")))]
pub async fn hello() -> &'static str {
    "hello"
}
