//! The raw Redis baseline: each session is a JSON object in one key, read with `GET` and written
//! back whole with `SET ... EX`, without `WATCH`/`MULTI`. It is the floor a hand-written app
//! reaches (one round trip to validate, two to patch) and the reference for lost updates: two
//! concurrent patches read the same blob and the second `SET` drops the first one's change.

use axum::extract::State;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use serde_json::{Map, Value, json};

use crate::AppError;
use crate::routes::{self, IDLE_SECS, Login, USER_KEY};

/// The cookie that carries the session id.
pub const COOKIE_NAME: &str = "sid";

/// Prefix of the session keys in Redis.
pub const KEY_PREFIX: &str = "raw:";

/// Connects to `redis_url` through redis-rs's `ConnectionManager` (one multiplexed connection,
/// as Continuum's Redis store does).
pub async fn connect(redis_url: &str) -> anyhow::Result<ConnectionManager> {
    Ok(ConnectionManager::new(redis::Client::open(redis_url)?).await?)
}

/// The app over `redis`.
pub fn app(redis: ConnectionManager) -> Router {
    Router::new()
        .route(routes::HELLO, get(routes::hello))
        .route(routes::LOGIN, post(login))
        .route(routes::ME, get(validate))
        .route(routes::ATTRIBUTES, get(attributes).patch(patch))
        .with_state(redis)
}

/// A new session id: 16 random bytes from the OS, in hex.
fn new_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The Redis key of the session named by the request's cookie.
fn session_key(headers: &HeaderMap) -> Option<String> {
    let prefix = format!("{COOKIE_NAME}=");
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(&prefix))
        .map(|id| format!("{KEY_PREFIX}{id}"))
}

/// The session blob at `key`, if there is one.
async fn load(redis: &mut ConnectionManager, key: &str) -> Result<Option<Map<String, Value>>, AppError> {
    let blob: Option<Vec<u8>> = redis.get(key).await?;
    Ok(blob.map(|blob| serde_json::from_slice(&blob)).transpose()?)
}

/// Writes the whole blob, restarting its idle timeout.
async fn save(redis: &mut ConnectionManager, key: &str, data: &Map<String, Value>) -> Result<(), AppError> {
    let () = redis.set_ex(key, serde_json::to_vec(data)?, IDLE_SECS).await?;
    Ok(())
}

async fn login(
    State(mut redis): State<ConnectionManager>,
    Json(login): Json<Login>,
) -> Result<Response, AppError> {
    let id = new_id();
    let mut data = Map::new();
    data.insert(USER_KEY.to_owned(), Value::String(login.user));
    save(&mut redis, &format!("{KEY_PREFIX}{id}"), &data).await?;
    let cookie = format!("{COOKIE_NAME}={id}; HttpOnly; SameSite=Lax; Path=/; Max-Age={IDLE_SECS}");
    Ok((StatusCode::CREATED, [(SET_COOKIE, cookie)]).into_response())
}

/// Validate: one `GET`, then read the user.
async fn validate(
    State(mut redis): State<ConnectionManager>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(key) = session_key(&headers) else { return Ok(StatusCode::UNAUTHORIZED.into_response()) };
    Ok(match load(&mut redis, &key).await?.and_then(|mut data| data.remove(USER_KEY)) {
        Some(user) => Json(json!({ "user": user })).into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    })
}

/// Read-modify-write with no guard: `GET`, set each member, `SET`.
async fn patch(
    State(mut redis): State<ConnectionManager>,
    headers: HeaderMap,
    Json(patch): Json<Map<String, Value>>,
) -> Result<StatusCode, AppError> {
    let Some(key) = session_key(&headers) else { return Ok(StatusCode::UNAUTHORIZED) };
    let Some(mut data) = load(&mut redis, &key).await? else { return Ok(StatusCode::UNAUTHORIZED) };
    data.extend(patch);
    save(&mut redis, &key, &data).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every key of the session as stored now.
async fn attributes(
    State(mut redis): State<ConnectionManager>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(key) = session_key(&headers) else { return Ok(StatusCode::UNAUTHORIZED.into_response()) };
    Ok(match load(&mut redis, &key).await? {
        Some(data) => Json(data).into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    })
}
