//! The browser pages the server ships: the admin page (always, at `/admin`) and the demo app
//! (at `/`, only with `--demo`), built from `web/` by `sdk/browser`'s build and embedded in the
//! binary, plus the demo's one endpoint of its own.
//!
//! # Layout
//! - [`assets`]: the built files, embedded with `include_bytes!`, and how they are answered.
//! - [`pdf_task`]: the demo's long task ("prepare the PDF") that reports its progress into the
//!   user's document through the same code path as `PATCH /v1/docs/...`.

pub mod assets;
pub mod pdf_task;

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;
pub use pdf_task::DemoState;

/// The pages' routes: `/admin` and its assets always; `/`, the demo's assets and
/// `POST /demo/api/pdf` when the demo is on.
pub fn router(state: &AppState) -> Router<AppState> {
    let router = Router::new()
        .route("/admin", get(|| async { assets::page(&assets::ADMIN_HTML) }))
        .route("/assets/admin.js", get(|| async { assets::file(&assets::ADMIN_JS) }))
        .route("/assets/style.css", get(|| async { assets::file(&assets::STYLE_CSS) }));
    if state.demo().is_none() {
        return router;
    }
    router
        .route("/", get(|| async { assets::page(&assets::DEMO_HTML) }))
        .route("/assets/demo.js", get(|| async { assets::file(&assets::DEMO_JS) }))
        // At the root, so its scope covers the page at `/`.
        .route("/sw.js", get(|| async { assets::file(&assets::DEMO_SW_JS) }))
        .route("/demo/api/pdf", post(pdf_task::start))
}
