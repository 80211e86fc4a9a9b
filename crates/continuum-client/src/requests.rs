//! The backend plane's requests, built without I/O, and [`BearerKey`], the API key header.
//!
//! Paths are built here and nowhere else; every path segment that comes from the user is
//! percent-encoded, so a principal such as `team/alice` cannot turn into another route.

use std::fmt;

use continuum_core::Device;
use http::header::{AUTHORIZATION, CONTENT_TYPE, IF_MATCH};
use http::{HeaderValue, Method, Request, Uri};
use http_body_util::Full;
use hyper::body::Bytes;
use serde::Serialize;
use serde_json::{Map, Value};

/// The `Authorization: Bearer <key>` header value, marked sensitive so that hyper never logs it.
#[derive(Clone)]
pub struct BearerKey(HeaderValue);

impl BearerKey {
    /// The header for `key`, or `None` when the key cannot be sent in a header.
    pub fn new(key: &str) -> Option<Self> {
        let mut value = HeaderValue::from_str(&format!("Bearer {key}")).ok()?;
        value.set_sensitive(true);
        Some(Self(value))
    }

    /// A copy in static memory, never freed, so that putting it on a request copies a pointer
    /// instead of writing a reference count. For a load generator, which makes one per run (see
    /// `continuum_bench::workload::static_bytes`).
    pub fn leaked(&self) -> Self {
        let text: &'static [u8] = self.0.as_bytes().to_vec().leak();
        let mut value =
            HeaderValue::from_maybe_shared(Bytes::from_static(text)).expect("it was a header value already");
        value.set_sensitive(true);
        Self(value)
    }
}

impl fmt::Debug for BearerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerKey(..)")
    }
}

/// The body of `POST /v1/sessions`; `None` fields are left out so the server's defaults apply.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CreateSession {
    /// The owner; the server makes an anonymous principal when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// The device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
    /// Initial attributes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Map<String, Value>>,
    /// Idle timeout in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout_secs: Option<u64>,
    /// Absolute lifetime in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absolute_timeout_secs: Option<u64>,
    /// A sealed-cookie session: the session itself, encrypted, is the token; nothing is stored.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sealed: bool,
}

/// Percent-encodes one path segment: everything but RFC 3986's unreserved characters.
pub fn encode_segment(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn request(method: Method, path: Uri, key: Option<&BearerKey>, json: Option<Bytes>) -> Request<Full<Bytes>> {
    let is_json = json.is_some();
    let mut request = Request::new(Full::new(json.unwrap_or_default()));
    *request.method_mut() = method;
    *request.uri_mut() = path;
    let headers = request.headers_mut();
    if let Some(key) = key {
        headers.insert(AUTHORIZATION, key.0.clone());
    }
    if is_json {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    request
}

/// A path built from encoded segments.
fn uri(path: String) -> Uri {
    Uri::try_from(path).expect("paths are built from encoded segments")
}

fn to_json(value: &impl Serialize) -> Bytes {
    Bytes::from(serde_json::to_vec(value).expect("request bodies are plain data that always serialize"))
}

/// `GET <path>`, with the API key when given: `/hello`, `/healthz`, `/readyz`, `/metrics`.
pub fn get(path: &str, key: Option<&BearerKey>) -> Request<Full<Bytes>> {
    request(Method::GET, uri(path.to_owned()), key, None)
}

/// `GET /hello`, the floor of the load generator.
pub fn hello() -> Request<Full<Bytes>> {
    request(Method::GET, Uri::from_static("/hello"), None, None)
}

/// `POST /v1/sessions`.
pub fn create_session(key: &BearerKey, body: &CreateSession) -> Request<Full<Bytes>> {
    request(Method::POST, Uri::from_static("/v1/sessions"), Some(key), Some(to_json(body)))
}

/// `POST /v1/sessions/validate` with `{"token": ...}`: the token travels in the body, never in
/// the URL.
pub fn validate(key: &BearerKey, token: &str) -> Request<Full<Bytes>> {
    validate_with_body(key, validate_body(token))
}

/// The body of `POST /v1/sessions/validate`: `{"token": ...}`.
pub fn validate_body(token: &str) -> Bytes {
    to_json(&serde_json::json!({ "token": token }))
}

/// `POST /v1/sessions/validate` with a body built by [`validate_body`].
pub fn validate_with_body(key: &BearerKey, body: Bytes) -> Request<Full<Bytes>> {
    request(Method::POST, Uri::from_static("/v1/sessions/validate"), Some(key), Some(body))
}

/// `GET /v1/sessions/{sid}`.
pub fn get_session(key: &BearerKey, sid: &str) -> Request<Full<Bytes>> {
    request(Method::GET, uri(format!("/v1/sessions/{}", encode_segment(sid))), Some(key), None)
}

/// `PATCH /v1/sessions/{sid}/attributes` with a JSON merge patch, and `If-Match` when
/// `expected_version` is given.
pub fn patch_attributes(
    key: &BearerKey,
    sid: &str,
    patch: &Value,
    expected_version: Option<u64>,
) -> Request<Full<Bytes>> {
    let path = format!("/v1/sessions/{}/attributes", encode_segment(sid));
    let mut request = request(Method::PATCH, uri(path), Some(key), Some(to_json(patch)));
    request.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/merge-patch+json"));
    if let Some(version) = expected_version {
        let etag =
            HeaderValue::from_str(&format!("\"{version}\"")).expect("a quoted number is a valid header");
        request.headers_mut().insert(IF_MATCH, etag);
    }
    request
}

/// `DELETE /v1/sessions/{sid}`.
pub fn revoke_session(key: &BearerKey, sid: &str) -> Request<Full<Bytes>> {
    request(Method::DELETE, uri(format!("/v1/sessions/{}", encode_segment(sid))), Some(key), None)
}

/// `DELETE /v1/sessions/{sid}` with `{"token": ...}`: revokes one sealed session (a deny
/// entry until the token's absolute expiry).
pub fn revoke_sealed(key: &BearerKey, sid: &str, token: &str) -> Request<Full<Bytes>> {
    let path = uri(format!("/v1/sessions/{}", encode_segment(sid)));
    request(Method::DELETE, path, Some(key), Some(validate_body(token)))
}

/// `POST /v1/sessions/{sid}/rotate`: a new secret; the old one works for the grace window.
pub fn rotate_session(key: &BearerKey, sid: &str) -> Request<Full<Bytes>> {
    request(Method::POST, uri(format!("/v1/sessions/{}/rotate", encode_segment(sid))), Some(key), None)
}

/// `GET /v1/docs/{scope}/{name}`: the document as JSON.
pub fn get_doc(key: &BearerKey, scope: &str, name: &str) -> Request<Full<Bytes>> {
    request(Method::GET, doc_path(scope, name), Some(key), None)
}

/// `PATCH /v1/docs/{scope}/{name}` with a JSON merge patch whose members name root maps;
/// answered once the change is durable.
pub fn patch_doc(key: &BearerKey, scope: &str, name: &str, patch: &Value) -> Request<Full<Bytes>> {
    let mut request = request(Method::PATCH, doc_path(scope, name), Some(key), Some(to_json(patch)));
    request.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/merge-patch+json"));
    request
}

fn doc_path(scope: &str, name: &str) -> Uri {
    uri(format!("/v1/docs/{}/{}", encode_segment(scope), encode_segment(name)))
}

/// `GET /v1/principals/{principal}/sessions`.
pub fn list_sessions(key: &BearerKey, principal: &str) -> Request<Full<Bytes>> {
    let path = format!("/v1/principals/{}/sessions", encode_segment(principal));
    request(Method::GET, uri(path), Some(key), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> BearerKey {
        BearerKey::new("ck_test").unwrap()
    }

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode_segment("AbZ09-._~"), "AbZ09-._~");
        assert_eq!(encode_segment("team/alice@x y"), "team%2Falice%40x%20y");
        assert_eq!(encode_segment("é"), "%C3%A9");
        let request = list_sessions(&key(), "a/b?c");
        assert_eq!(request.uri().path(), "/v1/principals/a%2Fb%3Fc/sessions");
        assert_eq!(request.uri().query(), None);
    }

    #[test]
    fn the_key_is_a_sensitive_bearer_header() {
        let request = get_session(&key(), "sid");
        let header = &request.headers()[AUTHORIZATION];
        assert_eq!(header, "Bearer ck_test");
        assert!(header.is_sensitive());
        assert_eq!(format!("{:?}", key()), "BearerKey(..)");
        assert!(BearerKey::new("bad\nkey").is_none());
        assert!(!get("/hello", None).headers().contains_key(AUTHORIZATION));
    }

    #[test]
    fn create_leaves_out_what_is_not_asked() {
        let body = CreateSession {
            principal: Some("alice".into()),
            idle_timeout_secs: Some(60),
            ..Default::default()
        };
        assert_eq!(&to_json(&body)[..], br#"{"principal":"alice","idle_timeout_secs":60}"#);
        let request = create_session(&key(), &body);
        assert_eq!((request.method(), request.uri().path()), (&Method::POST, "/v1/sessions"));
        assert_eq!(request.headers()[CONTENT_TYPE], "application/json");
    }

    #[test]
    fn patch_carries_if_match_only_when_asked() {
        let patch = serde_json::json!({"a": 1});
        let plain = patch_attributes(&key(), "sid", &patch, None);
        assert!(!plain.headers().contains_key(IF_MATCH));
        assert_eq!(plain.uri().path(), "/v1/sessions/sid/attributes");
        let guarded = patch_attributes(&key(), "sid", &patch, Some(7));
        assert_eq!(guarded.headers()[IF_MATCH], "\"7\"");
        assert_eq!(guarded.headers()[CONTENT_TYPE], "application/merge-patch+json");
    }
}
