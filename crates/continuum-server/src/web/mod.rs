//! The browser files the server ships, built from `web/` by `sdk/browser`'s build and embedded
//! in the binary: the admin page (always, at `/admin`) with [`router`], and the demo app's files,
//! which [`crate::demo`] serves when it is mounted.
//!
//! # Layout
//! - [`assets`]: the built files, embedded with `include_bytes!`, and how they are answered.

pub mod assets;

use axum::Router;
use axum::routing::get;

/// The admin page's routes: `/admin`, its script and the stylesheet both pages share. They use
/// no state: the page talks to the API like any client.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/admin", get(|| async { assets::page(&assets::ADMIN_HTML) }))
        .route("/assets/admin.js", get(|| async { assets::file(&assets::ADMIN_JS) }))
        .route("/assets/style.css", get(|| async { assets::file(&assets::STYLE_CSS) }))
}
