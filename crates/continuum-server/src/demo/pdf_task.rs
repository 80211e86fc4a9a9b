//! The demo's long task, "prepare the PDF": started by a signed-in device, it writes its
//! progress into the user's demo document (`user:<principal>/demo-trip`, root map `task`) with
//! [`Docs::patch_json`](crate::docs_state::Docs::patch_json), the operation behind
//! `PATCH /v1/docs/...`, so every connected device sees it live and a reload shows where it
//! stands. One task per user at a time ([`TaskSlots`](super::slots::TaskSlots)).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use continuum_core::{DocKey, DocName, Scope};
use serde_json::{Value, json};

use super::slots::Claim;
use super::state::DemoState;
use crate::api::docs::doc_error;
use crate::api::json_response;
use crate::error::ApiError;
use crate::extract::ClientSession;
use crate::state::AppState;

/// The document the demo app keeps its draft in, in the user's scope.
pub const DEMO_DOC: &str = "demo-trip";
/// Progress steps of one task.
pub const STEPS: u32 = 16;
/// Time between two steps.
pub const STEP_INTERVAL: Duration = Duration::from_millis(250);

/// The `task` member of the document at one moment.
fn task(state: &AppState, status: &str, progress: u32) -> Value {
    let now = state.sessions().now().as_millis();
    json!({"task": {"kind": "pdf", "state": status, "progress": progress, "updated_at": now}})
}

/// `POST /demo/api/pdf`: start preparing the PDF of the caller's draft. Answers 202 with the
/// task's first state once it is durable in the document; 409 while one is running.
pub async fn start(State(demo): State<DemoState>, session: ClientSession) -> Result<Response, ApiError> {
    let principal = session.record.principal.clone();
    let claim = demo.slots.claim(&principal).await.ok_or_else(|| {
        ApiError::new(StatusCode::CONFLICT, "task-running", "a PDF is already being prepared for this user")
    })?;
    let state = &demo.app;
    let name = DocName::parse(DEMO_DOC).expect("a valid document name");
    let key = DocKey { scope: Scope::User(principal), name };
    let mut first = task(state, "running", 0);
    first["task"]["started_at"] = first["task"]["updated_at"].clone();
    first["task"]["pages"] = Value::Null;
    state.docs().patch_json(&key, &first).await.map_err(doc_error)?;
    let worker = PdfTask { state: state.clone(), key, _claim: claim };
    state.socket_tasks().spawn(worker.run());
    Ok(json_response(StatusCode::ACCEPTED, &first))
}

/// One running task; owned by the server's socket task tracker, so shutdown waits for it (it
/// stops at the next step once the server is shutting down).
struct PdfTask {
    state: AppState,
    key: DocKey,
    _claim: Claim,
}

impl PdfTask {
    async fn run(self) {
        let shutdown = self.state.shutdown().clone();
        for step in 1..=STEPS {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(STEP_INTERVAL) => {}
            }
            let mut patch = task(&self.state, "running", step * 100 / STEPS);
            if step == STEPS {
                patch["task"]["state"] = json!("done");
                patch["task"]["pages"] = json!(3);
            }
            if let Err(error) = self.state.docs().patch_json(&self.key, &patch).await {
                tracing::warn!(doc = %self.key, error = ?error, "the demo's PDF task could not write its progress");
                return;
            }
        }
    }
}
