//! Client plane, handoff: a signed-in device asks for a short code; a new device redeems it and
//! gets its own session for the same principal.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use continuum_core::handoff::CODE_TTL;
use continuum_core::{Device, HandoffCode, NewSession};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::live_cookie::{already_signed_in, live_cookie_session};
use super::{client_user_agent, json_response};
use crate::error::{ApiError, Problem};
use crate::extract::{BrowserOrigin, ClientSession, JsonBody};
use crate::handoff_grant::HandoffGrant;
use crate::state::AppState;
use crate::views::{IssuedSession, Rfc3339, SessionView};

/// `{code, expires_at}`.
#[derive(Serialize, ToSchema, Debug)]
pub struct HandoffOffer {
    /// 8 characters from `23456789ABCDEFGHJKLMNPQRSTUVWXYZ`; case, spaces and dashes are ignored
    /// when redeemed.
    pub code: String,
    /// RFC 3339; two minutes after issue.
    #[schema(value_type = String)]
    pub expires_at: Rfc3339,
}

/// `POST /v1/handoff/redeem`.
#[derive(Deserialize, ToSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    /// The code shown on the other device.
    pub code: String,
}

/// Ask for a code another device can redeem within two minutes, once.
#[utoipa::path(post, path = "/v1/me/handoff", tag = "client",
    security(("session_cookie" = []), ("session_token" = [])),
    responses((status = 201, body = HandoffOffer), (status = 401, body = Problem), (status = 403, body = Problem), (status = 429, body = Problem),
              (status = 503, body = Problem)))]
pub async fn offer(State(state): State<AppState>, session: ClientSession) -> Result<Response, ApiError> {
    let now = state.sessions().now();
    let code = HandoffCode::generate();
    let expires_at = now + CODE_TTL;
    let grant = HandoffGrant { principal: session.record.principal.clone(), issuer: session.record.sid };
    state.handoffs().insert(code.clone(), grant, session.record.sid, expires_at, now)?;
    let offer = HandoffOffer { code: code.to_string(), expires_at: Rfc3339(expires_at) };
    Ok(json_response(StatusCode::CREATED, &offer))
}

/// Redeem a code: a new session for the same principal on this device, set as its cookie.
/// A live session the cookie held is replaced and revoked if it is the same principal's
/// (redeeming is signing in again: the old token must not live on); another principal's is
/// refused with 409, the code left unused (sign out first). Failed attempts are rate
/// limited per client address, successful ones per principal (each is a new session); past the
/// principal's session cap its oldest sessions are signed out. A request with a `Cookie` or an
/// `Origin` header (a browser's) must come from an allowed origin.
#[utoipa::path(post, path = "/v1/handoff/redeem", tag = "client", request_body = RedeemRequest,
    responses((status = 201, body = IssuedSession), (status = 400, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 429, body = Problem)))]
pub async fn redeem(
    State(state): State<AppState>,
    _: BrowserOrigin,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RedeemRequest>,
) -> Result<Response, ApiError> {
    let now = state.sessions().now();
    let throttle = state.redeem_throttle();
    throttle
        .check(&peer.ip(), now)
        .map_err(|wait| ApiError::rate_limited("too many failed handoff codes from this address", wait))?;
    let code = match HandoffCode::parse(&body.code) {
        Ok(code) => code,
        Err(error) => {
            throttle.record(peer.ip(), now);
            return Err(ApiError::bad_request("invalid-code", format!("invalid handoff code: {error}")));
        }
    };
    let replaced = live_cookie_session(&state, &headers).await?;
    if let Some(replaced) = &replaced {
        let grant = state.handoffs().peek(&code, now);
        if grant.is_some_and(|grant| grant.principal != replaced.principal) {
            return Err(already_signed_in("redeeming another user's handoff code"));
        }
    }
    let grant = state.handoffs().take(&code, now);
    let issuer_live = match &grant {
        Some(grant) => state.sessions().get(&grant.issuer).await.is_ok_and(|issuer| issuer.is_live(now)),
        None => false,
    };
    let Some(grant) = grant.filter(|_| issuer_live) else {
        throttle.record(peer.ip(), now);
        return Err(ApiError::not_found(
            "this handoff code is not valid: it expired, was used, or was never issued",
        ));
    };
    state.redemptions().check(&grant.principal, now).map_err(|wait| {
        ApiError::rate_limited("this user has redeemed too many handoff codes in the last hour", wait)
    })?;
    let user_agent = client_user_agent(&headers, state.sessions().limits());
    let ask = NewSession {
        principal: Some(grant.principal),
        device: Device { label: None, user_agent },
        ..NewSession::default()
    };
    let (record, token) = state.sessions().create(ask).await?;
    state.redemptions().record(record.principal.clone(), now);
    crate::principal_cap::enforce(&state, &record).await;
    if let Some(replaced) = replaced.filter(|replaced| replaced.principal == record.principal) {
        // The new session stands either way; a failure here leaves the old one to expire.
        if let Err(error) = state.sessions().revoke(&replaced.sid).await {
            tracing::warn!(sid = %replaced.sid, error = &error as &dyn std::error::Error, "cannot revoke the session a redeem replaced");
        }
    }
    let cookie = state.cookies().for_session(&token, &record, now);
    let body = IssuedSession { token: token.to_string(), session: SessionView::new(&record, now) };
    let mut response = json_response(StatusCode::CREATED, &body);
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response.into_response())
}
