//! Session events for application servers: [`feed::EventFeed`] numbers and keeps them for
//! resumption; `GET /v1/events` ([`crate::api::events`]) streams them.

pub mod feed;

pub use feed::EventFeed;
