//! Reading an HTTP answer into the history's [`Outcome`]: what a 2xx showed, which 4xx refused,
//! and everything else as unknown.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::Response;
use serde_json::Value;

use crate::history::{Observed, Outcome};

/// An answer of the session API, read: the outcome, and the token it issued, if any.
#[derive(Debug)]
pub struct Answer {
    /// For the history.
    pub outcome: Outcome,
    /// `token` of the answer (a create, a rotation, a sealed token sealed again).
    pub token: Option<String>,
    /// `session.sid` of the answer.
    pub sid: Option<String>,
}

/// Reads `answer` (or why there was none) from the session API: `{"session": …, "token"?}`
/// for a 2xx with a body, nothing for a 204.
pub fn session_answer(answer: Result<Response<Bytes>, String>) -> Answer {
    read(answer, |body| {
        let session = &body["session"];
        let observed = Observed {
            version: session["version"].as_u64(),
            status: session["status"].as_str().map(str::to_owned),
            attributes: integer_members(&session["attributes"]),
            doc_keys: Vec::new(),
        };
        (observed, body["token"].as_str().map(str::to_owned), session["sid"].as_str().map(str::to_owned))
    })
}

/// Reads `answer` from the document API: the keys of the root map `map`.
pub fn doc_answer(answer: Result<Response<Bytes>, String>, map: &str) -> Outcome {
    read(answer, |body| {
        let keys = body[map].as_object().map(|members| members.keys().cloned().collect()).unwrap_or_default();
        (Observed { doc_keys: keys, ..Observed::default() }, None, None)
    })
    .outcome
}

fn read(
    answer: Result<Response<Bytes>, String>,
    parse: impl FnOnce(&Value) -> (Observed, Option<String>, Option<String>),
) -> Answer {
    let response = match answer {
        Ok(response) => response,
        Err(reason) => return unknown(reason),
    };
    let status = response.status();
    let body: Value = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
    if status.is_success() {
        let (observed, token, sid) = parse(&body);
        return Answer { outcome: Outcome::Ok(observed), token, sid };
    }
    let problem = body["type"].as_str().and_then(|kind| kind.rsplit('/').next()).unwrap_or("").to_owned();
    if status.is_client_error() {
        let outcome = Outcome::Refused { status: status.as_u16(), problem };
        return Answer { outcome, token: None, sid: None };
    }
    unknown(format!("{} {problem}", status.as_u16()))
}

fn unknown(reason: String) -> Answer {
    Answer { outcome: Outcome::Unknown { reason }, token: None, sid: None }
}

/// The members of `object` whose values are unsigned integers.
fn integer_members(object: &Value) -> BTreeMap<String, u64> {
    let Some(members) = object.as_object() else { return BTreeMap::new() };
    members.iter().filter_map(|(key, value)| Some((key.clone(), value.as_u64()?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Result<Response<Bytes>, String> {
        Ok(Response::builder().status(status).body(Bytes::from(body.to_owned())).unwrap())
    }

    #[test]
    fn a_success_shows_version_status_and_integer_attributes_a_4xx_refuses_and_a_5xx_is_unknown() {
        let ok = session_answer(response(
            200,
            r#"{"token":"t1","session":{"sid":"x","version":4,"status":"active","attributes":{"a":3,"s":"no"}}}"#,
        ));
        let Outcome::Ok(observed) = &ok.outcome else { panic!("{ok:?}") };
        assert_eq!((observed.version, observed.status.as_deref()), (Some(4), Some("active")));
        assert_eq!(observed.attributes, BTreeMap::from([("a".to_owned(), 3)]));
        assert_eq!((ok.token.as_deref(), ok.sid.as_deref()), (Some("t1"), Some("x")));

        let refused =
            session_answer(response(401, r#"{"type":"https://continuum.dev/problems/unauthorized"}"#));
        assert_eq!(refused.outcome, Outcome::Refused { status: 401, problem: "unauthorized".into() });
        assert!(matches!(session_answer(response(503, "{}")).outcome, Outcome::Unknown { .. }));
        assert!(matches!(session_answer(Err("timeout".into())).outcome, Outcome::Unknown { .. }));
        assert!(matches!(session_answer(response(204, "")).outcome, Outcome::Ok(_)));
    }

    #[test]
    fn a_document_shows_the_keys_of_the_named_root_map() {
        let outcome = doc_answer(response(200, r#"{"edits":{"e1":1,"e2":1},"other":{"x":1}}"#), "edits");
        let Outcome::Ok(observed) = outcome else { panic!() };
        assert_eq!(observed.doc_keys, ["e1", "e2"]);
    }
}
