//! Session events for application servers: [`feed::EventFeed`] numbers and keeps them for
//! resumption; `GET /v1/events` ([`crate::api::events`]) streams them. [`loss`] adds what the
//! store reports it cannot serve.

pub mod feed;
pub mod loss;

pub use feed::EventFeed;
