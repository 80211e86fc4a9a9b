//! The demo app: a multi-step form on the browser SDK at `/`, its script and service worker,
//! and its one endpoint of its own, `POST /demo/api/pdf`. A layer above the API: it uses the
//! app's state, the API's document operations and the embedded files of [`crate::web`], and
//! nothing in the server uses it. Whoever runs the server mounts [`router`] beside the API
//! (`continuum serve --demo` does, through [`run()`](crate::run())'s `mounts`).
//!
//! # Layout
//! - [`state`]: [`DemoState`], what the demo's handlers share.
//! - [`slots`]: [`TaskSlots`], the users whose task is running.
//! - [`pdf_task`]: the demo's long task ("prepare the PDF") that reports its progress into the
//!   user's document through the same operation as `PATCH /v1/docs/...`.

pub mod pdf_task;
pub mod slots;
pub mod state;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;
use crate::web::assets;
use slots::TaskSlots;
use state::DemoState;

/// The demo's routes, to mount beside the API (the state is the app's, so the result merges
/// into [`app_with`](crate::app::app_with)): the page at `/`, `/assets/demo.js`, the service
/// worker at `/sw.js` (at the root, so its scope covers the page) and `POST /demo/api/pdf`.
/// The demo signs visitors in as guests: serve it with guest sessions on.
pub fn router(state: &AppState) -> Router<AppState> {
    let demo = DemoState { app: state.clone(), slots: TaskSlots::default() };
    Router::new()
        .route("/", get(|| async { assets::page(&assets::DEMO_HTML) }))
        .route("/assets/demo.js", get(|| async { assets::file(&assets::DEMO_JS) }))
        .route("/sw.js", get(|| async { assets::file(&assets::DEMO_SW_JS) }))
        .route("/demo/api/pdf", post(pdf_task::start))
        .with_state(demo)
}
