//! Request extractors that refuse bad input with a problem+json answer before a handler runs.

mod auth;
mod if_match;
mod json;
mod path;

pub use auth::{BackendAuth, ClientSession};
pub use if_match::IfMatch;
pub use json::JsonBody;
pub use path::{PrincipalPath, SidPath};
