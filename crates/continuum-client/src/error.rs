//! [`ClientError`]: why a call to the server failed, with its cause; [`Problem`]: the server's
//! RFC 9457 explanation of a refusal.

use std::fmt;
use std::time::Duration;

use http::StatusCode;
use serde::Deserialize;

/// The body of an `application/problem+json` answer. Every field is optional so that a partial
/// or foreign problem still shows what it has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// A short summary of the kind.
    pub title: Option<String>,
    /// The HTTP status the server sent.
    pub status: Option<u16>,
    /// What was wrong with this request.
    pub detail: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.title, &self.detail) {
            (Some(title), Some(detail)) => write!(f, "{title}: {detail}"),
            (Some(text), None) | (None, Some(text)) => f.write_str(text),
            (None, None) => f.write_str("no details"),
        }
    }
}

/// Why a request did not get a successful answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server URL cannot be used.
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The TCP connection could not be opened.
    #[error("cannot connect to {server}")]
    Connect {
        /// The server.
        server: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The HTTP/1 handshake failed.
    #[error("HTTP handshake with {server} failed")]
    Handshake {
        /// The server.
        server: String,
        /// The cause.
        #[source]
        source: hyper::Error,
    },
    /// Sending the request or reading the answer failed (the connection broke, most likely).
    #[error("the request failed")]
    Request(#[source] hyper::Error),
    /// No complete answer within the time allowed.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The server refused the request.
    #[error("the server answered {status}{}", explain(*status, problem.as_ref()))]
    Status {
        /// The status code.
        status: StatusCode,
        /// The problem details, when the body was `application/problem+json` (or any JSON object).
        problem: Option<Problem>,
    },
    /// A successful answer's body is not the JSON expected.
    #[error("the server's answer is not the JSON expected")]
    Decode(#[source] serde_json::Error),
}

/// `: <title>: <detail>` for a refusal, leaving out a title that only repeats the status's reason.
fn explain(status: StatusCode, problem: Option<&Problem>) -> String {
    let Some(problem) = problem else { return String::new() };
    if problem.title.is_some() && problem.title.as_deref() == status.canonical_reason() {
        let detail = Problem { title: None, ..problem.clone() };
        if detail.detail.is_some() {
            return format!(": {detail}");
        }
        return String::new();
    }
    format!(": {problem}")
}

impl ClientError {
    /// The status code of a refusal, if this is one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_show_status_title_and_detail() {
        let problem: Problem = serde_json::from_str(
            r#"{"type":"about:blank","title":"Session expired","status":401,"detail":"expired at noon"}"#,
        )
        .unwrap();
        let error = ClientError::Status { status: StatusCode::UNAUTHORIZED, problem: Some(problem) };
        assert_eq!(
            error.to_string(),
            "the server answered 401 Unauthorized: Session expired: expired at noon"
        );
        let repeated = Problem {
            title: Some("Bad Request".into()),
            detail: Some("bad sid".into()),
            ..Problem::default()
        };
        let error = ClientError::Status { status: StatusCode::BAD_REQUEST, problem: Some(repeated.clone()) };
        assert_eq!(error.to_string(), "the server answered 400 Bad Request: bad sid");
        let title_only = Problem { detail: None, ..repeated };
        let error = ClientError::Status { status: StatusCode::BAD_REQUEST, problem: Some(title_only) };
        assert_eq!(error.to_string(), "the server answered 400 Bad Request");
        let bare = ClientError::Status { status: StatusCode::BAD_GATEWAY, problem: None };
        assert_eq!(bare.to_string(), "the server answered 502 Bad Gateway");
        assert_eq!(bare.status(), Some(StatusCode::BAD_GATEWAY));
    }
}
