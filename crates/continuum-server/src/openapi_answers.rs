//! [`ErrorAnswers`]: declares on every operation of the OpenAPI document the error answers the
//! server's shared layers give it, and the media type they come in, so the document says what
//! the server answers (issue 18, finding 10: schemathesis found them undeclared).
//!
//! The rules follow where the answers come from, not each handler: an operation with a security
//! requirement can be 401 (no or a bad key or token); one with path or query parameters 400 (a
//! malformed id, scope, name or query); one with a body 400 (not JSON), 413 (too large), 415 (not
//! JSON media type) and 422 (the wrong shape). Every problem is `application/problem+json`.
//! A `text/event-stream` answer's schema describes one event as OpenAPI tools read it
//! (`event`, `id`, and `data`, a string holding JSON), not the JSON inside `data`.

use utoipa::Modify;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, ResponseBuilder};

/// The schema every error answer has.
const PROBLEM_SCHEMA: &str = "#/components/schemas/Problem";

/// The [`Modify`] applying the rules of this module.
pub struct ErrorAnswers;

impl Modify for ErrorAnswers {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                declare_errors(operation);
                problems_as_problem_json(operation);
                events_as_sse_frames(operation);
            }
        }
    }
}

fn declare_errors(operation: &mut Operation) {
    let secured = operation.security.as_ref().is_some_and(|requirements| !requirements.is_empty());
    let parameters = operation.parameters.iter().flatten();
    let has_parameters =
        parameters.clone().any(|p| matches!(p.parameter_in, ParameterIn::Path | ParameterIn::Query));
    let mut statuses = Vec::new();
    if secured {
        statuses.push(("401", "no valid key or token"));
    }
    if has_parameters {
        statuses.push(("400", "a malformed parameter"));
    }
    if operation.request_body.is_some() {
        statuses.extend([
            ("400", "a body that is not JSON"),
            ("413", "a body past the size limit"),
            ("415", "a body that is not a JSON media type"),
            ("422", "a body of the wrong shape"),
        ]);
    }
    for (status, description) in statuses {
        operation.responses.responses.entry(status.to_owned()).or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content("application/problem+json", Content::new(Some(Ref::new(PROBLEM_SCHEMA))))
                    .build(),
            )
        });
    }
}

/// Moves a Problem body declared as `application/json` (utoipa's default) to
/// `application/problem+json`, the media type the server sends.
fn problems_as_problem_json(operation: &mut Operation) {
    for response in operation.responses.responses.values_mut() {
        let RefOr::T(response) = response else { continue };
        let is_problem = response.content.get("application/json").is_some_and(|content| {
            matches!(&content.schema, Some(RefOr::Ref(schema)) if schema.ref_location == PROBLEM_SCHEMA)
        });
        if is_problem && let Some(content) = response.content.shift_remove("application/json") {
            response.content.insert("application/problem+json".to_owned(), content);
        }
    }
}

/// Replaces the schema of a `text/event-stream` answer (the JSON inside `data`, which the
/// description names) by the event's own shape: `event` and `id` strings, `data` a JSON string.
fn events_as_sse_frames(operation: &mut Operation) {
    for response in operation.responses.responses.values_mut() {
        let RefOr::T(response) = response else { continue };
        let Some(content) = response.content.get_mut("text/event-stream") else { continue };
        let string = || ObjectBuilder::new().schema_type(Type::String);
        let frame = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("event", string().description(Some("the event's kind")))
            .property("id", string().description(Some("for `Last-Event-ID`")))
            .property(
                "data",
                string()
                    .content_media_type("application/json")
                    .description(Some("JSON: an `EventData` (components.schemas.EventData)")),
            )
            .required("data");
        content.schema = Some(RefOr::T(frame.into()));
    }
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi as _;

    use crate::openapi::ApiDoc;

    #[test]
    fn every_problem_is_problem_json_and_secured_operations_declare_401() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let text = document.to_string();
        assert!(!text.contains(r##""application/json":{"schema":{"$ref":"#/components/schemas/Problem"}}"##));
        let validate = &document["paths"]["/v1/sessions/validate"]["post"]["responses"];
        for status in ["401", "413", "415", "422"] {
            assert!(validate[status]["content"]["application/problem+json"].is_object(), "{status}");
        }
        let get = &document["paths"]["/v1/sessions/{sid}"]["get"]["responses"];
        assert!(get["400"].is_object() && get["401"].is_object());
    }
}
