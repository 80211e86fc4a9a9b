//! Continuum for Rust apps in one line: a tower [`ContinuumLayer`] and an axum [`Session`]
//! extractor.
//!
//! ```ignore
//! let app = Router::new().route("/", get(handler)).layer(ContinuumLayer::remote(RemoteConfig::new(url, key)));
//! async fn handler(session: Session) -> String { format!("{:?}", session.principal()) }
//! ```
//!
//! # Layout
//! - [`layer`]: [`ContinuumLayer`] / [`ContinuumService`]: validates the cookie, hands the handler
//!   a [`Session`], writes the cookie change; a bad cookie gets a 401 problem+json.
//! - [`session`]: [`Session`], the extractor: `data`, `login`, `logout`, `update`, `devices`.
//! - [`remote`]: remote mode ([`RemoteConfig`]): validation by a Continuum server, cached.
//! - [`cache`]: [`SessionCache`], the remote cache's policy (TTL, eviction, races), pure.
//! - [`events`]: the task reading `GET /v1/events` that evicts revoked sessions at once.
//! - [`sse`]: a `text/event-stream` parser, pure.
//! - [`client`]: [`ContinuumClient`], the backend-plane calls over hyper-util.
//! - [`sealed`]: sealed mode ([`SealedConfig`]): `cs~` tokens opened in process, no network.
//! - [`cookie`]: [`CookieConfig`]: name and attributes (OWASP by default), pure.
//! - [`data`]: [`SessionData`], what a handler sees of a session.
//! - [`error`]: [`SessionError`] and its problem+json answer.
//!
//! # Main flow
//! For each request the layer reads the cookie; none means anonymous. Remote mode answers from
//! the cache while the event stream is up and the entry is younger than the TTL, else asks
//! `POST /v1/sessions/validate`; sealed mode opens the token with the key ring. The handler may
//! `login` (new session, new cookie, old session revoked) or `logout` (revoked, cookie cleared);
//! a sealed token re-sealed after a touch replaces the cookie on the way out.

pub mod cache;
pub mod client;
pub mod cookie;
pub mod data;
pub mod error;
pub mod events;
pub mod layer;
mod mode;
pub mod remote;
pub mod sealed;
pub mod session;
pub mod sse;

pub use cache::{DEFAULT_CACHE_TTL, SessionCache};
pub use client::ContinuumClient;
pub use cookie::CookieConfig;
pub use data::SessionData;
pub use error::SessionError;
pub use layer::{ContinuumLayer, ContinuumService};
pub use remote::RemoteConfig;
pub use sealed::SealedConfig;
pub use session::Session;
