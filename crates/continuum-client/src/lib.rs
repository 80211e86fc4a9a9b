//! `continuum-client`: a small HTTP/1 client for Continuum's backend plane, on hyper's connection
//! API, shared by `continuum sessions` and the load generator (`continuum-bench`).
//!
//! One [`Connection`] is one keep-alive TCP connection; requests on it go one after another. That
//! is all the `sessions` commands need, and it is exactly the unit the load generator multiplies.
//! There is no pool, no TLS and no redirects: Continuum's CLI talks to `http://` servers
//! (loopback or behind a TLS-terminating proxy on the same host).
//!
//! # Layout
//! - [`endpoint`]: [`Endpoint`], the `http://host:port` a client talks to.
//! - [`connection`]: [`Connection`], one HTTP/1 connection that sends a request and reads the
//!   whole answer.
//! - [`requests`]: the backend plane's requests, built without I/O, and [`BearerKey`].
//! - [`api`]: [`ApiClient`], typed calls that turn non-2xx answers into errors.
//! - [`error`]: [`ClientError`] and the server's [`Problem`] details.
//!
//! # Main flow
//! [`Endpoint::parse`] the server's URL once; an [`ApiClient`] over it (with a [`BearerKey`])
//! opens its [`Connection`] on the first call and turns refusals into [`ClientError::Status`]
//! with the server's [`Problem`]. Code that multiplies connections (the load generator) builds
//! requests with [`requests`] and sends them on its own [`Connection`]s.

pub mod api;
pub mod connection;
pub mod endpoint;
pub mod error;
pub mod requests;

pub use api::ApiClient;
pub use connection::Connection;
pub use endpoint::Endpoint;
pub use error::{ClientError, Problem};
pub use requests::{BearerKey, CreateSession};
