//! Bad input of every kind gets a 4xx problem+json answer saying what was wrong, the server stays
//! healthy, and nothing in the store changes (not even a touch).

mod common;

use common::{KEY, TestServer};
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    status: u16,
    /// A word the problem's detail must contain, so the caller learns what was wrong.
    says: &'static str,
}

fn backend(
    name: &'static str,
    method: Method,
    path: &str,
    body: &[u8],
    status: u16,
    says: &'static str,
) -> Case {
    Case {
        name,
        method,
        path: path.to_owned(),
        headers: vec![
            ("authorization", format!("Bearer {KEY}")),
            ("content-type", "application/json".into()),
        ],
        body: Some(body.to_vec()),
        status,
        says,
    }
}

fn json(value: Value) -> Vec<u8> {
    serde_json::to_vec(&value).unwrap()
}

/// A sealed token with its decoded bytes changed by `change`.
fn resealed_bytes(sealed: &str, change: impl FnOnce(&mut Vec<u8>)) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut bytes = URL_SAFE_NO_PAD.decode(&sealed[3..]).unwrap();
    change(&mut bytes);
    format!("cs~{}", URL_SAFE_NO_PAD.encode(bytes))
}

fn sealed_cases(sealed: &str) -> Vec<Case> {
    let validate = "/v1/sessions/validate";
    let token = |text: String| json(json!({ "token": text }));
    let middle = sealed.len() / 2;
    let flipped = if &sealed[middle..=middle] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &sealed[..middle], &sealed[middle + 1..]);
    let big: serde_json::Map<String, Value> =
        (0..4).map(|i| (format!("k{i}"), json!("x".repeat(1500)))).collect();
    vec![
        backend(
            "sealed token not base64url",
            Method::POST,
            validate,
            &token(format!("cs~{}", "!".repeat(80))),
            401,
            "base64url",
        ),
        backend(
            "sealed token with padding",
            Method::POST,
            validate,
            &token(format!("{sealed}=")),
            401,
            "base64url",
        ),
        backend(
            "sealed token too short",
            Method::POST,
            validate,
            &token(sealed[..31].to_owned()),
            401,
            "too short",
        ),
        backend(
            "sealed token too long",
            Method::POST,
            validate,
            &token(format!("cs~{}", "A".repeat(5000))),
            401,
            "at most",
        ),
        backend(
            "sealed token with an unknown key id",
            Method::POST,
            validate,
            &token(resealed_bytes(sealed, |bytes| bytes[1..5].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]))),
            401,
            "deadbeef",
        ),
        backend(
            "sealed token of another version",
            Method::POST,
            validate,
            &token(resealed_bytes(sealed, |bytes| bytes[0] = 0)),
            401,
            "version 0",
        ),
        backend("tampered sealed token", Method::POST, validate, &token(tampered), 401, "authentication"),
        backend(
            "sealed token with a byte appended",
            Method::POST,
            validate,
            &token(resealed_bytes(sealed, |bytes| bytes.push(0))),
            401,
            "authentication",
        ),
        backend(
            "sealed session over the cookie budget",
            Method::POST,
            "/v1/sessions",
            &json(json!({"principal": "alice", "sealed": true, "attributes": big})),
            422,
            "4096",
        ),
        backend(
            "sealed flag of the wrong type",
            Method::POST,
            "/v1/sessions",
            &json(json!({"principal": "alice", "sealed": "yes"})),
            422,
            "invalid type",
        ),
        Case {
            name: "sealed token on the client plane",
            method: Method::GET,
            path: "/v1/me".into(),
            headers: vec![("cookie", format!("__Host-continuum={sealed}"))],
            body: None,
            status: 401,
            says: "/v1/sessions/validate",
        },
    ]
}

fn cases(sid: &str, token: &str) -> Vec<Case> {
    let (_, secret) = token.split_once('.').unwrap();
    let validate = "/v1/sessions/validate";
    let attributes = format!("/v1/sessions/{sid}/attributes");
    let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
    let mut list = vec![
        backend(
            "token without a dot",
            Method::POST,
            validate,
            &json(json!({"token": sid})),
            401,
            "malformed",
        ),
        backend(
            "token too short",
            Method::POST,
            validate,
            &json(json!({"token": &token[..60]})),
            401,
            "characters",
        ),
        backend(
            "token in standard base64",
            Method::POST,
            validate,
            &json(json!({"token": format!("{sid}.{}+", &secret[..42])})),
            401,
            "base64url",
        ),
        backend(
            "token with padding",
            Method::POST,
            validate,
            &json(json!({"token": format!("{token}=")})),
            401,
            "characters",
        ),
        backend(
            "token with two dots",
            Method::POST,
            validate,
            &json(json!({"token": format!("{sid}.{sid}.{secret}")})),
            401,
            "malformed",
        ),
        backend(
            "token of the wrong JSON type",
            Method::POST,
            validate,
            &json(json!({"token": 42})),
            422,
            "invalid type",
        ),
        backend("empty body", Method::POST, validate, b"", 400, "not valid JSON"),
        backend("truncated JSON", Method::POST, validate, br#"{"token": "#, 400, "not valid JSON"),
        backend(
            "unknown field",
            Method::POST,
            validate,
            &json(json!({"token": token, "admin": true})),
            422,
            "unknown field",
        ),
        backend(
            "invalid UTF-8",
            Method::POST,
            "/v1/sessions",
            b"{\"principal\": \"\xff\xfe\"}",
            400,
            "not valid JSON",
        ),
        backend(
            "principal too long",
            Method::POST,
            "/v1/sessions",
            &json(json!({"principal": "p".repeat(300)})),
            422,
            "at most 256",
        ),
        backend(
            "principal with a control character",
            Method::POST,
            "/v1/sessions",
            &json(json!({"principal": "a\u{0}b"})),
            422,
            "printable",
        ),
        backend(
            "reserved anonymous principal",
            Method::POST,
            "/v1/sessions",
            &json(json!({"principal": "anon:me"})),
            422,
            "reserved",
        ),
        backend(
            "empty principal",
            Method::POST,
            "/v1/sessions",
            &json(json!({"principal": ""})),
            422,
            "empty",
        ),
        backend(
            "zero idle timeout",
            Method::POST,
            "/v1/sessions",
            &json(json!({"idle_timeout_secs": 0})),
            422,
            "idle_timeout_secs",
        ),
        backend(
            "absolute timeout out of range",
            Method::POST,
            "/v1/sessions",
            &json(json!({"absolute_timeout_secs": 1_000_000_000_000u64})),
            422,
            "absolute_timeout_secs",
        ),
        backend(
            "negative timeout",
            Method::POST,
            "/v1/sessions",
            &json(json!({"idle_timeout_secs": -5})),
            422,
            "invalid value",
        ),
        backend(
            "attributes not an object",
            Method::POST,
            "/v1/sessions",
            &json(json!({"attributes": [1, 2]})),
            422,
            "invalid type",
        ),
        backend(
            "attributes too large",
            Method::POST,
            "/v1/sessions",
            &json(json!({"attributes": {"big": "x".repeat(20_000)}})),
            413,
            "attributes",
        ),
        backend(
            "device label too long",
            Method::POST,
            "/v1/sessions",
            &json(json!({"device": {"label": "l".repeat(200)}})),
            422,
            "device.label",
        ),
        backend("JSON nested too deep", Method::POST, "/v1/sessions", deep.as_bytes(), 400, "deeper"),
        backend(
            "body over the size limit",
            Method::POST,
            "/v1/sessions",
            &json(json!({"attributes": {"big": "x".repeat(70_000)}})),
            413,
            "larger",
        ),
        backend("patch that is not an object", Method::PATCH, &attributes, b"[1]", 422, "JSON object"),
        backend(
            "patch growing attributes past the limit",
            Method::PATCH,
            &attributes,
            &json(json!({"big": "x".repeat(17_000)})),
            413,
            "attributes",
        ),
        backend("malformed session id", Method::GET, "/v1/sessions/short", b"", 400, "session id"),
        backend(
            "session id outside the alphabet",
            Method::GET,
            "/v1/sessions/AAAAAAAAAAAAAAAAAAAA%2B%2B",
            b"",
            400,
            "base64url",
        ),
        backend(
            "session id with spare bits set",
            Method::POST,
            &format!("/v1/sessions/{}B/rotate", &sid[..21]),
            b"",
            400,
            "session id",
        ),
        backend(
            "principal path too long",
            Method::GET,
            &format!("/v1/principals/{}/sessions", "p".repeat(300)),
            b"",
            400,
            "at most 256",
        ),
        backend(
            "bad except parameter",
            Method::DELETE,
            "/v1/principals/alice/sessions?except=nope",
            b"",
            400,
            "except",
        ),
    ];
    for (query, says) in [
        ("scope=group:x", "scope"),
        ("scope=user:", "scope"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=many", "limit"),
        ("colour=red", "unknown field"),
    ] {
        list.push(backend(
            "bad live documents query",
            Method::GET,
            &format!("/v1/live/docs?{query}"),
            b"",
            400,
            says,
        ));
    }
    let if_match = |value: &str, says| {
        let mut case = backend("malformed If-Match", Method::PATCH, &attributes, br#"{"a": 1}"#, 400, says);
        case.headers.push(("if-match", value.to_owned()));
        case
    };
    list.push(if_match("1", "quoted"));
    list.push(if_match("W/\"1\"", "quoted"));
    list.push(if_match("\"one\"", "number"));
    let mut stale = backend("stale If-Match", Method::PATCH, &attributes, br#"{"a": 1}"#, 412, "version 1");
    stale.headers.push(("if-match", "\"7\"".into()));
    list.push(stale);
    let mut no_type = backend(
        "no content type",
        Method::POST,
        validate,
        &json(json!({"token": token})),
        415,
        "Content-Type",
    );
    no_type.headers.retain(|(name, _)| *name != "content-type");
    list.push(no_type);
    let mut text = backend(
        "text/plain body",
        Method::POST,
        validate,
        &json(json!({"token": token})),
        415,
        "Content-Type",
    );
    text.headers[1].1 = "text/plain".into();
    list.push(text);
    let mut wrong_key =
        backend("wrong API key", Method::GET, &format!("/v1/sessions/{sid}"), b"", 401, "not valid");
    wrong_key.headers[0].1 = "Bearer not-the-key".into();
    list.push(wrong_key);
    let mut basic = backend("basic auth", Method::GET, &format!("/v1/sessions/{sid}"), b"", 401, "Bearer");
    basic.headers[0].1 = "Basic dXNlcjpwYXNz".into();
    list.push(basic);
    let mut missing =
        backend("no credentials", Method::GET, &format!("/v1/sessions/{sid}"), b"", 401, "Bearer");
    missing.headers.remove(0);
    list.push(missing);
    list.push(Case {
        name: "the demo's task on a server without the demo",
        method: Method::POST,
        path: "/demo/api/pdf".into(),
        headers: vec![("authorization", format!("Session {token}"))],
        body: None,
        status: 404,
        says: "no such endpoint",
    });
    list.push(Case {
        name: "client token with the secret cut",
        method: Method::GET,
        path: "/v1/me".into(),
        headers: vec![("authorization", format!("Session {}", &token[..50]))],
        body: None,
        status: 401,
        says: "malformed",
    });
    list.push(Case {
        name: "client cookie with a forged secret",
        method: Method::GET,
        path: "/v1/me".into(),
        headers: vec![("cookie", format!("__Host-continuum={sid}.{}A", "B".repeat(42)))],
        body: None,
        status: 401,
        says: "not recognised",
    });
    list
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find(|line| line.starts_with(name) && line[name.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from metrics"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_clearly_and_changes_nothing() {
    let server = TestServer::start().await;
    let (token, _) = server.create_session(json!({"principal": "alice", "attributes": {"keep": "me"}})).await;
    let sid = token.split_once('.').unwrap().0.to_owned();
    let before = server.backend(Method::GET, &format!("/v1/sessions/{sid}"), None).await.json();
    let metrics_before = String::from_utf8(server.get("/metrics", &[]).await.body.to_vec()).unwrap();

    let (sealed, _) = server.create_session(json!({"principal": "alice", "sealed": true})).await;
    let mut cases = cases(&sid, &token);
    cases.extend(sealed_cases(&sealed));
    assert!(cases.len() >= 20);
    for case in &cases {
        let headers: Vec<(&str, &str)> = case.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let answer = server.request(case.method.clone(), &case.path, &headers, case.body.clone()).await;
        assert_eq!(
            answer.status.as_u16(),
            case.status,
            "{}: {}",
            case.name,
            String::from_utf8_lossy(&answer.body)
        );
        let detail = answer.problem(case.status);
        assert!(
            detail.contains(case.says),
            "{}: detail `{detail}` does not mention `{}`",
            case.name,
            case.says
        );
    }

    assert_eq!(server.get("/healthz", &[]).await.status, StatusCode::OK);
    let after = server.backend(Method::GET, &format!("/v1/sessions/{sid}"), None).await.json();
    assert_eq!(after, before, "the session is exactly as it was");
    let still = server.backend(Method::POST, "/v1/sessions/validate", Some(json!({ "token": sealed }))).await;
    assert_eq!(still.status, StatusCode::OK, "the sealed token still works");
    let metrics_after = String::from_utf8(server.get("/metrics", &[]).await.body.to_vec()).unwrap();
    assert_eq!(metric(&metrics_after, "continuum_sessions"), 1.0);
    assert_eq!(
        metric(&metrics_after, "continuum_store_commit_batch_size_sum"),
        metric(&metrics_before, "continuum_store_commit_batch_size_sum"),
        "no bad request wrote to the store"
    );
    server.stop().await;
}
