//! The `visits` example app of `crates/continuum-tower` rebuilt on tower-sessions, so that the
//! load example measures the same app on Continuum's layer and on tower-sessions (issue 6).
//!
//! # Layout
//!
//! - [`app`]: the router: `GET /`, `GET /me`, `POST /login?user=`, `POST /logout`, `GET /devices`,
//!   generic over the tower-sessions store.
//! - [`store`]: [`StoreChoice`], the `--store` flag: `memory` or a `redis://` URL.

pub mod app;
pub mod store;

pub use app::router;
pub use store::StoreChoice;
