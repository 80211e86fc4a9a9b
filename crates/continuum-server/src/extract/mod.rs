//! Request extractors that refuse bad input with a problem+json answer before a handler runs.

mod auth;
mod doc_path;
mod if_match;
mod json;
mod origin;
mod path;

pub use auth::{BackendAuth, ClientSession};
pub use doc_path::{DocPath, VersionPath};
pub use if_match::IfMatch;
pub use json::{JsonBody, OptionalJsonBody};
pub use origin::BrowserOrigin;
pub use path::{PrincipalPath, SidPath};
