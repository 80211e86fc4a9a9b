//! The demo's long task, "prepare the PDF": started by a signed-in device, it writes its
//! progress into the user's demo document (`user:<principal>/demo-trip`, root map `task`) with
//! [`patch_doc`], the code path of `PATCH /v1/docs/...`, so every connected device sees it
//! live and a reload shows where it stands. One task per user at a time.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use continuum_core::{DocKey, DocName, Principal, Scope};
use serde_json::{Value, json};

use crate::api::docs::patch_doc;
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

/// How long a start waits for a task slot that is taken before refusing. A task frees its slot
/// just after writing "done", and a device that sees "done" may start the next task at once;
/// that start waits for the slot instead of being refused.
const SLOT_WAIT: Duration = Duration::from_millis(500);

/// What the demo holds while the server runs: the users whose task is running.
#[derive(Debug, Default)]
pub struct DemoState {
    running: Arc<Slots>,
}

/// The users whose task is running, and a signal when one ends.
#[derive(Debug, Default)]
struct Slots {
    users: Mutex<HashSet<Principal>>,
    freed: tokio::sync::Notify,
}

impl DemoState {
    /// Claims the task slot of `principal`; `None` if a task of theirs is running.
    fn try_claim(&self, principal: &Principal) -> Option<Claim> {
        let mut users = self.running.users.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        users
            .insert(principal.clone())
            .then(|| Claim { running: Arc::clone(&self.running), principal: principal.clone() })
    }

    /// Claims the task slot of `principal`, waiting up to [`SLOT_WAIT`] for a running task of
    /// theirs to end; `None` if it is still running then.
    async fn claim(&self, principal: &Principal) -> Option<Claim> {
        let deadline = tokio::time::Instant::now() + SLOT_WAIT;
        loop {
            // Registered before trying, so a release between the try and the wait is not missed.
            let freed = self.running.freed.notified();
            if let Some(claim) = self.try_claim(principal) {
                return Some(claim);
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return None;
            }
        }
    }
}

/// A user's task slot, released when dropped (the task ended, failed or was cancelled).
struct Claim {
    running: Arc<Slots>,
    principal: Principal,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.running.users.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&self.principal);
        self.running.freed.notify_waiters();
    }
}

/// The `task` member of the document at one moment.
fn task(state: &AppState, status: &str, progress: u32) -> Value {
    let now = state.sessions().now().as_millis();
    json!({"task": {"kind": "pdf", "state": status, "progress": progress, "updated_at": now}})
}

/// `POST /demo/api/pdf`: start preparing the PDF of the caller's draft. Answers 202 with the
/// task's first state once it is durable in the document; 409 while one is running.
pub async fn start(State(state): State<AppState>, session: ClientSession) -> Result<Response, ApiError> {
    let demo = state.demo().ok_or_else(|| ApiError::not_found("the demo is not served here"))?;
    let principal = session.record.principal.clone();
    let claim = demo.claim(&principal).await.ok_or_else(|| {
        ApiError::new(StatusCode::CONFLICT, "task-running", "a PDF is already being prepared for this user")
    })?;
    let name = DocName::parse(DEMO_DOC).expect("a valid document name");
    let key = DocKey { scope: Scope::User(principal), name };
    let mut first = task(&state, "running", 0);
    first["task"]["started_at"] = first["task"]["updated_at"].clone();
    first["task"]["pages"] = Value::Null;
    patch_doc(&state, &key, &first).await?;
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
            if let Err(error) = patch_doc(&self.state, &self.key, &patch).await {
                tracing::warn!(doc = %self.key, error = ?error, "the demo's PDF task could not write its progress");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_start_waits_briefly_for_a_slot_that_is_being_freed() {
        let demo = DemoState::default();
        let alice = Principal::parse("alice").unwrap();
        let running = demo.try_claim(&alice).expect("a free slot");
        assert!(demo.try_claim(&alice).is_none(), "one task per user");
        assert!(demo.try_claim(&Principal::parse("bob").unwrap()).is_some(), "other users are not held up");

        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            drop(running);
        });
        let next = demo.claim(&alice).await;
        assert!(next.is_some(), "the slot freed within the wait");

        let started = tokio::time::Instant::now();
        assert!(demo.claim(&alice).await.is_none(), "still running after the wait");
        assert!(started.elapsed() >= SLOT_WAIT, "refused only after waiting");
    }
}
