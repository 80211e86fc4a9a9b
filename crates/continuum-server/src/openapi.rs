//! The OpenAPI document, generated from the handlers' annotations and served at `/openapi.json`.

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::api::{
    docs, edge, edge_replay, edge_sync, events, guest, handoff, health, live, me, principals, sessions, sync,
};
use crate::error::Problem;
use crate::openapi_answers::ErrorAnswers;
use crate::views;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                continuum_core::cookie::SessionCookie::continuum(false).name(),
            ))),
        );
        components.add_security_scheme(
            "session_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Session <token>`",
            ))),
        );
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "Continuum", description = "Login sessions as a service."),
    modifiers(&Security, &ErrorAnswers),
    paths(
        sessions::create, sessions::validate, sessions::get, sessions::patch_attributes,
        sessions::rotate, sessions::revoke,
        principals::list, principals::revoke_all,
        me::me, me::logout, me::devices, me::revoke_device,
        guest::create, handoff::offer, handoff::redeem,
        sync::ticket, sync::socket,
        docs::get, docs::patch, docs::save_version, docs::list_versions, docs::get_version, docs::restore,
        events::stream_events,
        edge::record, edge::touch, edge_replay::replay, edge_sync::socket,
        live::list,
        health::healthz, health::readyz, health::metrics, health::hello,
    ),
    components(schemas(
        Problem, views::SessionView, views::SessionEnvelope, views::ValidatedSession, views::IssuedSession, views::SessionList,
        views::DeviceList, views::RevokedCount, views::CreateSession, views::ValidateRequest, views::DeviceView,
        handoff::HandoffOffer, handoff::RedeemRequest, sync::SyncTicket,
        docs::VersionView, docs::VersionList, docs::VersionContent, docs::NewVersion,
        events::SessionEventView, events::SignedOutView, events::DataLostView, events::ResetView,
        events::EventData, events::RefusedUpdatesView,
        edge_replay::ReplayRequest, edge_replay::ReplayEntry, edge_replay::ReplayAnswer, edge_replay::RefusedView,
        live::LiveDocList, live::LiveDocView, live::LiveDevice,
    ))
)]
pub struct ApiDoc;

/// The document as JSON text.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
