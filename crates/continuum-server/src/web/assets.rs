//! The built browser files, embedded in the binary so the server needs nothing beside it, and
//! their answers: no caching without revalidation (the files change with the binary), and for
//! pages a content security policy that allows only this origin's scripts, styles and sockets.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes, as built into `web/dist/`.
    pub bytes: &'static [u8],
}

/// The admin page.
pub static ADMIN_HTML: Asset = Asset {
    content_type: "text/html; charset=utf-8",
    bytes: include_bytes!("../../../../web/dist/admin.html"),
};
/// The admin page's script.
pub static ADMIN_JS: Asset = Asset {
    content_type: "text/javascript; charset=utf-8",
    bytes: include_bytes!("../../../../web/dist/admin.js"),
};
/// The demo app's page.
pub static DEMO_HTML: Asset = Asset {
    content_type: "text/html; charset=utf-8",
    bytes: include_bytes!("../../../../web/dist/demo.html"),
};
/// The demo app's script: the SDK, yjs and the app.
pub static DEMO_JS: Asset = Asset {
    content_type: "text/javascript; charset=utf-8",
    bytes: include_bytes!("../../../../web/dist/demo.js"),
};
/// The demo app's service worker: keeps the app shell for reloads while offline.
pub static DEMO_SW_JS: Asset = Asset {
    content_type: "text/javascript; charset=utf-8",
    bytes: include_bytes!("../../../../web/dist/sw.js"),
};
/// The stylesheet both pages share.
pub static STYLE_CSS: Asset = Asset {
    content_type: "text/css; charset=utf-8",
    bytes: include_bytes!("../../../../web/dist/style.css"),
};

/// Scripts, styles, sockets and fetches from this origin only; images may be inline (`data:`,
/// the QR code); nothing may frame the pages.
const PAGE_POLICY: &str = "default-src 'self'; img-src 'self' data:; connect-src 'self'; \
                           base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A file answer.
pub fn file(asset: &'static Asset) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        asset.bytes,
    )
        .into_response()
}

/// A page answer: the file with the page's security headers.
pub fn page(asset: &'static Asset) -> Response {
    let mut response = file(asset);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_POLICY));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}
