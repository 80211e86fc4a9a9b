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

#[test]
fn operation_ids_are_unique() {
    let json = serde_json::to_value(document()).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for (path, operations) in json["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no id"));
            if let Some(other) = seen.insert(id.to_owned(), format!("{method} {path}")) {
                panic!("operationId {id:?} names both {other} and {method} {path}");
            }
        }
    }
}

/// A path parameter must appear in its path template, and every `{name}` of the template must be
/// documented as a path parameter: generated clients build URLs from exactly this.
#[test]
fn path_parameters_match_the_path_templates() {
    let json = serde_json::to_value(document()).unwrap();
    for (path, operations) in json["paths"].as_object().unwrap() {
        let template: std::collections::BTreeSet<&str> =
            path.split('/').filter_map(|part| part.strip_prefix('{')?.strip_suffix('}')).collect();
        for (method, operation) in operations.as_object().unwrap() {
            let documented: std::collections::BTreeSet<&str> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|parameter| parameter["in"] == "path")
                .map(|parameter| parameter["name"].as_str().unwrap())
                .collect();
            assert_eq!(documented, template, "{method} {path}");
        }
    }
}
