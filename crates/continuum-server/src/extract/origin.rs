//! [`BrowserOrigin`]: a request from a browser comes from an allowed origin.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::state::AppState;

/// Proof that the request is not a browser's (no `Cookie`, no `Origin`) or comes from an
/// allowed origin ([`CookieConfig::check_browser_origin`](crate::cookie::CookieConfig::check_browser_origin));
/// otherwise 403 `origin-not-allowed`. For routes that set the session cookie without taking
/// one: guest sessions and handoff redemption.
#[derive(Debug)]
pub struct BrowserOrigin;

impl FromRequestParts<AppState> for BrowserOrigin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        state.cookies().check_browser_origin(parts)?;
        Ok(BrowserOrigin)
    }
}
