//! The routes both baseline apps serve, so that one client drives either:
//!
//! | route | what |
//! |---|---|
//! | `GET /hello` | the HTTP floor: no session work |
//! | `POST /login` with `{"user": ...}` | creates a session holding `user`; answers 201 with its cookie |
//! | `GET /me` | validate: loads the session from the cookie and answers `{"user": ...}`, or 401 |
//! | `PATCH /me/attributes` with a JSON object | read-modify-write: loads the session, sets each member, saves; 204 |
//! | `GET /me/attributes` | every key of the session, read back from Redis (the lost-update count) |

use serde::Deserialize;

/// The HTTP floor.
pub const HELLO: &str = "/hello";
/// Creates a session.
pub const LOGIN: &str = "/login";
/// Validates the session of the cookie.
pub const ME: &str = "/me";
/// Patches (`PATCH`) or reads back (`GET`) the session's keys.
pub const ATTRIBUTES: &str = "/me/attributes";

/// The key of the session that holds the user, set at login.
pub const USER_KEY: &str = "user";

/// How long an idle session lives, in seconds: Continuum's default idle timeout (30 minutes).
pub const IDLE_SECS: u64 = 30 * 60;

/// The body of `POST /login`.
#[derive(Debug, Deserialize)]
pub struct Login {
    /// Who logs in.
    pub user: String,
}

/// The answer of `GET /hello`.
pub async fn hello() -> &'static str {
    "hello"
}
