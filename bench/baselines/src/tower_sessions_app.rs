//! The axum + tower-sessions + Redis baseline, written the way tower-sessions' documentation and
//! its Redis store's example show: a `SessionManagerLayer` over a `RedisStore` on a fred pool, and
//! handlers that take the `Session` extractor.
//!
//! Per request, tower-sessions loads the record lazily (one `GET` of a MessagePack blob) on the
//! first access and, when the handler changed it, saves the whole record at the end (one
//! `SET ... XX EXAT`). Nothing guards a concurrent save: the last write wins.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};
use tower_sessions::{Expiry, Session, SessionManagerLayer, SessionStore};
use tower_sessions_redis_store::RedisStore;
use tower_sessions_redis_store::fred::prelude::{ClientLike, Config, Pool};

use crate::AppError;
use crate::routes::{self, IDLE_SECS, Login, USER_KEY};

/// Connections in the fred pool: the size the store's own example uses.
pub const POOL_SIZE: usize = 6;

/// The store behind the session layer.
pub type Store = RedisStore<Pool>;

/// Connects a fred pool of [`POOL_SIZE`] to `redis_url` and wraps it in tower-sessions' store.
pub async fn connect(redis_url: &str) -> anyhow::Result<Store> {
    let pool = Pool::new(Config::from_url(redis_url)?, None, None, None, POOL_SIZE)?;
    pool.init().await?;
    Ok(RedisStore::new(pool))
}

/// The app: the shared routes behind a session layer on `store`.
pub fn app(store: Store) -> Router {
    let idle = time::Duration::seconds(i64::try_from(IDLE_SECS).unwrap_or(i64::MAX));
    let layer =
        SessionManagerLayer::new(store.clone()).with_secure(false).with_expiry(Expiry::OnInactivity(idle));
    Router::new()
        .route(routes::HELLO, get(routes::hello))
        .route(routes::LOGIN, post(login))
        .route(routes::ME, get(validate))
        .route(routes::ATTRIBUTES, get(attributes).patch(patch))
        .layer(layer)
        .with_state(store)
}

/// Creates the session: inserting a key makes tower-sessions save it and set the cookie.
async fn login(session: Session, Json(login): Json<Login>) -> Result<StatusCode, AppError> {
    session.insert(USER_KEY, login.user).await?;
    Ok(StatusCode::CREATED)
}

/// Validate: load the session from the cookie and read the user.
async fn validate(session: Session) -> Result<Response, AppError> {
    Ok(match session.get::<String>(USER_KEY).await? {
        Some(user) => Json(json!({ "user": user })).into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    })
}

/// Read-modify-write: load the session, insert each member, and let the layer save the record.
async fn patch(session: Session, Json(patch): Json<Map<String, Value>>) -> Result<StatusCode, AppError> {
    if session.get_value(USER_KEY).await?.is_none() {
        return Ok(StatusCode::UNAUTHORIZED);
    }
    for (key, value) in patch {
        session.insert_value(&key, value).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Every key of the session as stored in Redis now (the `Session` API reads keys one by one).
async fn attributes(State(store): State<Store>, session: Session) -> Result<Response, AppError> {
    let Some(id) = session.id() else {
        return Ok(StatusCode::UNAUTHORIZED.into_response());
    };
    Ok(match store.load(&id).await? {
        Some(record) => Json(record.data).into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    })
}
