//! The OpenAPI document a reviewer reads, snapshot-tested, and checked against the router.

use continuum_server::openapi::document;

#[test]
fn openapi_document_snapshot() {
    let json = serde_json::to_value(document()).unwrap();
    insta::assert_json_snapshot!(json);
}

#[test]
fn every_documented_path_is_versioned_or_operational() {
    let json = serde_json::to_value(document()).unwrap();
    let paths: Vec<&String> = json["paths"].as_object().unwrap().keys().collect();
    assert!(paths.len() >= 14, "{paths:?}");
    for path in paths {
        assert!(
            path.starts_with("/v1/")
                || ["/healthz", "/readyz", "/metrics", "/hello"].contains(&path.as_str()),
            "{path}"
        );
    }
}
